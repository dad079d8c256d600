"""Demo app for tests/test_offline_maps.py: the DistrictMap frame over the bureau's local tiles.

MZ_TEST_TILES names a tile folder (z/x/y.png) or an .mbtiles file; the map draws the district outline on it
through components.maps (the frame's basemap → the app's own tile route), with no database and no sign-in.
"""
import os

import pandas as pd
import streamlit as st

from components import maps

st.write("本机瓦片测试")
boundaries = pd.DataFrame({"code": ["1"], "name": ["桃花街道"], "boundary_official": [False], "boundary_geojson": [
    '{"type":"Polygon","coordinates":[[[115.870,28.650],[115.895,28.650],[115.895,28.672],[115.870,28.672],'
    '[115.870,28.650]]]}']})
basemap = maps.Basemap("local", tile_path=os.environ["MZ_TEST_TILES"])
maps.show_map(maps.draw(boundaries, maps.Picture(), basemap=basemap), key="tiles_map", height=500)
