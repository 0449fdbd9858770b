"""The warehouse contract shared by the ETL (writer) and the dashboard (reader): settings, schema, engine."""
