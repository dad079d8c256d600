"""Declares the streamlit-folium map component in this server process on its first run of app.py, whatever the page.

Streamlit serves a component's files (/component/streamlit_folium.st_folium/…) only from a process in which the
component was declared, which happens when streamlit_folium is imported. Behind the proxy a tab whose replica died
runs on another one, but its map's files are fetched by the routing cookie — from the replica that came back, which
has drawn no map yet. Importing it on every first run (the sign-in page included; deploy/health.py --warm runs one
at start) makes every replica serve the map's files from its start. streamlit_folium itself is light (folium,
branca); the map builders (geopandas, shapely) stay with components/maps."""
from __future__ import annotations

import streamlit_folium  # noqa: F401  (declares the component)
