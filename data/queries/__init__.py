"""Named queries: every figure and table the pages show is read here, as DataFrames or scalars.

Modules by domain: facilities (facilities, meal points, coverage), services (home services,
living-alone roster), findings (inspections and rectification), aid (social assistance and
proactive discovery), affairs (marriage/funeral, stations, roundtable, targets).
"""
