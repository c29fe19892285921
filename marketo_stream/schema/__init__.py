"""Marketo metadata → Avro schemas, and Marketo rows → Avro-ready dicts. Pure functions, no I/O but ``schemas/``.

- ``names``: the one mapping from Marketo names to Avro field names, with collision handling;
- ``types``: the Marketo ``dataType`` → Avro type table;
- ``tables``: builders for the lead table, activity-type tables and custom objects (key + value schemas);
- ``fixed``: the fixed tables loaded from ``schemas/*.avsc``;
- ``convert``: ``RowConverter``, compiled per value schema, run per row;
- ``positional``: ``positional_converter``, the same for bulk-file rows (lists in header order), per header.

The sink never imports this package: it takes the plain schema dicts that come out of it.
"""

from marketo_stream.schema.convert import RowConverter, ValueConversionError
from marketo_stream.schema.fixed import fixed_table, schema_file_names
from marketo_stream.schema.names import assign_names, avro_name
from marketo_stream.schema.positional import ValuesConverter, positional_converter
from marketo_stream.schema.tables import AvroTable, activity_table, custom_object_table, key_schema, lead_table
from marketo_stream.schema.types import avro_type

__all__ = [
    "AvroTable",
    "RowConverter",
    "ValueConversionError",
    "ValuesConverter",
    "activity_table",
    "assign_names",
    "avro_name",
    "avro_type",
    "custom_object_table",
    "fixed_table",
    "key_schema",
    "lead_table",
    "positional_converter",
    "schema_file_names",
]
