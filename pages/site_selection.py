"""选址分析: vacant-room registry, demand and gaps, optimisation (maximal covering / fewest rooms), scenarios.

The page model is views.site_selection; the sections are drawn by components.site_panels, the maps on the district
map frame (components.maps.DistrictMap) by components.site_map."""
from __future__ import annotations

import streamlit as st

from components import filters, maps
from components import site_panels as panels
from components.session import reader as session_reader
from views import site_selection as view

f = filters.current()
reader = session_reader()
on = f.period.end  # the layout as on the last day of the chosen period
st.title("选址分析")
st.caption(view.caption(f.scope, on))
panels.flash()

radius, weight, section = panels.controls(view.settings(reader).walk_radius_m)
page = view.build(reader, f.street, on, radius, weight, section)


def district_map(key: str) -> maps.DistrictMap:
    """The district map frame, fitted to the scope's subdistricts; the page's maps take no clicks."""
    return maps.DistrictMap("site", map_key=key, clicks=False, settings=page.settings)


if section == "需求与缺口":
    panels.demand(page, district_map("site_demand_map"))
elif section == "优化选址":
    form = panels.params_form()
    with st.spinner("正在求解……"):
        sol = view.solve(page, form)
    panels.solution(sol, district_map("site_result_map"))
    if sol is not None and sol.result is not None:
        panels.save_and_convert(sol, save=lambda name: view.save_scenario(reader, page, name, sol),
                                convert=lambda code: view.convert_room(reader, page, code))
elif section == "方案比较":
    panels.scenarios(page.scenarios, load=lambda sid: view.scenario(reader, page, sid),
                     delete=lambda card: view.delete_scenario(reader, card), compare=view.compare_text)
else:
    panels.registry(page, form=lambda: view.room_form(reader, page),
                    on_save=lambda room_id, version, values: view.save_room(reader, room_id, version, values),
                    on_add=lambda values: view.add_room(reader, values),
                    on_import=lambda name, content, gcj02: view.import_rooms(reader, name, content, gcj02=gcj02))
