"""The framework's floor for the browser benchmark: an empty Streamlit page."""
import streamlit as st

st.write("空白页")
