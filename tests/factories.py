"""Small hand-made databases for query tests: insert rows by model name, two subdistricts to start from."""
import data.db.models as m


def insert(engine, model: str, *rows: dict) -> None:
    """Insert rows into the table of the named model (e.g. "AidPayment") in one transaction."""
    with engine.begin() as conn:
        conn.execute(getattr(m, model).__table__.insert(), list(rows))


def subdistricts(engine, *code_names: tuple[str, str]) -> None:
    """Subdistricts with no boundary: subdistricts(engine, ("360103901", "甲街道"), …)."""
    insert(engine, "Subdistrict", *[dict(code=c, name=n, code_mca=None, label_lon=None, label_lat=None,
                                         boundary_geojson=None, boundary_official=False) for c, n in code_names])
