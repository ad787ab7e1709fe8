"""SensorThings query options: the `$filter` grammar (lark), its syntax tree, the parser of all
options (`parse`), their compilation to SQLAlchemy Core on SQLite and PostgreSQL (`compile`) and the
geospatial functions (`geo`: PostGIS, or shapely functions registered in SQLite)."""
