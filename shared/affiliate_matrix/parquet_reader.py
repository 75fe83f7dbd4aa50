"""The Parquet reader of an import, run as its own process with bounded memory (exchange._parquet_batches starts it).

A Parquet file states how large its pages are once decompressed, and nothing in pyarrow bounds that: a few kilobytes of
zstd whose footer lies about its row groups' sizes decompressed to gigabytes before any check of ours could see a
batch. Read here, under RLIMIT_DATA, such a file costs this process its memory limit and no more: the import learns
it from the exit status and refuses the file. Only pyarrow is imported, so the process starts fast.

Usage: python -m affiliate_matrix.parquet_reader MEMORY MAX_GROUP < FILE > Arrow IPC stream. The file's row groups are
read as record batches (text as dictionaries, measured by the import before each row gets its own copy) and written
to standard output as an Arrow IPC stream. Exit 0: the whole file; REFUSED: a refusal on standard error; OUT_OF_MEMORY:
the file needs more than MEMORY bytes to read.
"""

import os
import resource
import sys
from itertools import chain

REFUSED, OUT_OF_MEMORY = 2, 3
BATCH = 1000
# Set before pyarrow loads (main): the system allocator (a MemoryError at the limit; jemalloc's reservations count
# against it too), and one thread in each of pyarrow's pools (each thread's stack counts against RLIMIT_DATA, and a pool
# sized by the node's cores could take the whole limit before a page is read).
ENV = {"ARROW_DEFAULT_MEMORY_POOL": "system", "OMP_NUM_THREADS": "1", "ARROW_IO_THREADS": "1"}


def main(memory: int, max_group: int) -> int:
    # RLIMIT_DATA, not RLIMIT_AS: address space reserved and never written (glibc's per-thread arenas, a thread's
    # guard pages) counts toward RLIMIT_AS, so a limit on it failed in thread setup rather than at a page too large.
    resource.setrlimit(resource.RLIMIT_DATA, (memory, memory))
    os.environ.update(ENV)  # read by pyarrow as it loads
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        source = open(0, "rb", closefd=False)  # the import's open file: the file checked is the file written
        parquet = pq.ParquetFile(source)
        text = [column.path for column in parquet.schema if column.physical_type == "BYTE_ARRAY"]  # list items too
        source.seek(0)
        parquet = pq.ParquetFile(source, read_dictionary=text)
        for group in range(parquet.metadata.num_row_groups):
            declared = parquet.metadata.row_group(group).total_byte_size
            if declared > max_group:
                return refuse(f"its row group {group + 1} declares {declared:,} bytes; at most {max_group:,} are "
                              "read at once (write it with smaller row groups)")
        batches = parquet.iter_batches(batch_size=BATCH, use_threads=False)
        first = next(batches, None)  # its schema has the dictionaries' types, which the file's does not
        schema = first.schema if first is not None else parquet.read(use_threads=False).schema
        with open(1, "wb", closefd=False) as written, pa.ipc.new_stream(written, schema) as out:
            for batch in chain([first] if first is not None else [], batches):
                out.write_batch(batch)
    except MemoryError:  # pyarrow's ArrowMemoryError too
        return OUT_OF_MEMORY
    except BrokenPipeError:  # the import stopped reading: it has refused the file already
        return REFUSED
    except (pa.ArrowException, OSError) as exc:  # not Parquet, truncated, a damaged page
        return refuse(f"not a readable Parquet file ({str(exc).strip()[:200]})")
    return 0


def refuse(message: str) -> int:
    print(message, file=sys.stderr)
    return REFUSED


if __name__ == "__main__":
    status = main(int(sys.argv[1]), int(sys.argv[2]))
    sys.stderr.flush()
    # Ended here, without the interpreter's teardown: pyarrow's thread pools, destroyed at exit, now and then aborted
    # the process ("terminate called without an active exception", status -6) after the whole file was sent, and the
    # import refused a good file.
    os._exit(status)
