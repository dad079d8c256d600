"""Geography layer of 民政一张图: district outline, schematic subdistricts, community points, WGS-84 <-> GCJ-02."""
