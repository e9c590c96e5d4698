#!/usr/bin/env python3
"""Writes the records of a JSONL file as Parquet with real writers, in every codec and encoding
they produce: pyarrow (data pages v1 and v2, dictionary, a dictionary that falls back to plain,
DELTA_LENGTH_BYTE_ARRAY, DELTA_BYTE_ARRAY, small row groups), DuckDB and polars.

Usage: write_parquet.py RECORDS.jsonl OUT_DIR [--only pyarrow,duckdb,polars]
Prints one written path per line. The tests compare what echoscan reads from each file with what
it reads from RECORDS.jsonl.
"""
import argparse
import json
import os


def pyarrow_files(records_path, out):
    import pyarrow as pa
    import pyarrow.json as pj
    import pyarrow.parquet as pq
    with open(records_path, encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle if line.strip()]
    table = pa.Table.from_pylist(rows)
    strings = [f.name for f in table.schema if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)]
    leaves = []
    for column in table.schema.names:
        field = table.schema.field(column)
        if pa.types.is_list(field.type) and pa.types.is_struct(field.type.value_type):
            leaves += [f"{column}.list.element.{child.name}" for child in field.type.value_type]
    written = []

    def write(name, **options):
        path = os.path.join(out, f"pyarrow-{name}.parquet")
        pq.write_table(table, path, **options)
        written.append(path)

    for codec in ["none", "snappy", "gzip", "zstd", "lz4", "brotli"]:
        write(f"{codec}-v1", compression=codec, row_group_size=max(1, len(rows) // 3))
        write(f"{codec}-v2", compression=codec, data_page_version="2.0")
    write("zstd-v2-uncompressed-pages", compression="zstd", data_page_version="2.0", use_dictionary=True,
          row_group_size=5, data_page_size=1 << 10)
    encodings = {name: "DELTA_LENGTH_BYTE_ARRAY" for name in strings}
    encodings.update({name: "DELTA_BYTE_ARRAY" for name in leaves})
    write("delta", compression="snappy", use_dictionary=False, column_encoding=encodings)
    write("delta-v2", compression="zstd", use_dictionary=False, column_encoding=encodings, data_page_version="2.0")
    # A dictionary page limit of a few KiB: the writer falls back to PLAIN within a column chunk.
    write("dictionary-fallback", compression="snappy", dictionary_pagesize_limit=4096, data_page_size=2048)
    write("row-groups-of-3", compression="zstd", row_group_size=3)
    return written


def duckdb_files(records_path, out):
    import duckdb
    written = []
    connection = duckdb.connect()
    for codec in ["uncompressed", "snappy", "gzip", "zstd", "lz4_raw", "brotli"]:
        path = os.path.join(out, f"duckdb-{codec}.parquet")
        connection.execute(
            f"COPY (SELECT * FROM read_json('{records_path}', format='newline_delimited', maximum_object_size={1 << 28})) "
            f"TO '{path}' (FORMAT PARQUET, COMPRESSION {codec}, ROW_GROUP_SIZE 4)")
        written.append(path)
    return written


def polars_files(records_path, out):
    import polars as pl
    frame = pl.read_ndjson(records_path)
    written = []
    for codec in ["uncompressed", "snappy", "gzip", "zstd", "lz4"]:
        path = os.path.join(out, f"polars-{codec}.parquet")
        frame.write_parquet(path, compression=codec, row_group_size=4)
        written.append(path)
    path = os.path.join(out, "polars-pyarrow-writer.parquet")
    frame.write_parquet(path, use_pyarrow=True)
    written.append(path)
    return written


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("records")
    parser.add_argument("out")
    parser.add_argument("--only", default="pyarrow,duckdb,polars")
    arguments = parser.parse_args()
    os.makedirs(arguments.out, exist_ok=True)
    writers = {"pyarrow": pyarrow_files, "duckdb": duckdb_files, "polars": polars_files}
    for name in arguments.only.split(","):
        for path in writers[name](os.path.abspath(arguments.records), arguments.out):
            print(path)


if __name__ == "__main__":
    main()
