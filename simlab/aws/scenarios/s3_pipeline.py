"""ETL on S3 uploads: a file lands in a bucket, a function transforms it into another bucket.

S3 notifies a function of each new object *asynchronously*: the function gets the bucket and the
URL-encoded key, never the data, and must fetch the object itself. A failed transform is retried by
the asynchronous queue (twice, after about 1 and 2 minutes), so anything the handler did before it
failed happens again: delivery is *at least once*, and every stage must be idempotent.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote_plus

from simlab.aws.simulation import Simulation
from simlab.aws.sources import DeadLetterQueue, Poisson, S3Bucket, configure_async
from simlab.core.dists import LogNormal
from simlab.core.validate import number

__all__ = ["etl_s3"]


def etl_s3(seed: int = 0, *, era: str = "today", uploads_per_hour: float = 120.0,
           error_rate: float = 0.01) -> Simulation:
    """CSV files land in ``raw-uploads/incoming/``; ``transform`` converts each to Parquet.

    ``transform`` (1,024 MB) reads the S3 notification, decodes the URL-encoded key, and writes
    ``clean/<name>.parquet`` (a third of the size) to the ``clean-data`` bucket, whose notification
    invokes ``catalog``. Both are invoked asynchronously; ``transform``'s failures
    (``error_rate``) are retried twice, then go to the dead-letter queue ``etl-failures``.

    A failure here strikes after the file was written, so a retried event writes it again and
    ``catalog`` sees it twice: asynchronous delivery is *at least once*, and handlers must be
    idempotent.

    Look at: ``result.output("etl-failures")``, ``result.output("s3-2").frame()`` (the
    clean bucket), the ``output`` column.
    """
    number("uploads_per_hour", uploads_per_hour, 0, 1e6, low_open=True)
    error_rate = number("error_rate", error_rate, 0, 1)
    sim = Simulation(era=era, seed=seed)
    raw = S3Bucket("raw-uploads", uploads=Poisson(uploads_per_hour / 3600.0),
                   prefix="incoming/", suffix=".csv", key_template="incoming/day-{n:05d}.csv",
                   size_bytes=LogNormal(median=2e6, sigma=1.0))
    clean = S3Bucket("clean-data", suffix=".parquet")

    def transform(event: dict, context: Any) -> dict:
        obj = event["Records"][0]["s3"]["object"]
        key = unquote_plus(obj["key"])
        rows = obj["size"] // 120
        out = "clean/" + key.rsplit("/", 1)[-1].removesuffix(".csv") + ".parquet"
        print(f"transforming s3://raw-uploads/{key}: {rows} rows")
        clean.put_object(out, size=obj["size"] // 3)
        return {"rows": rows, "output": out}

    def catalog(event: dict, context: Any) -> str:
        key = unquote_plus(event["Records"][0]["s3"]["object"]["key"])
        print(f"registered {key} in the data catalog")
        return key

    sim.add_function("transform", memory_mb=1024, timeout_s=120, cpu_s=LogNormal(2.0, 0.5),
                     io_s=LogNormal(0.4, 0.4), memory_used_mb=LogNormal(300.0, 0.3),
                     error_rate=error_rate, handler=transform)
    sim.add_function("catalog", memory_mb=256, timeout_s=10, duration_s=LogNormal(0.08, 0.3),
                     handler=catalog)
    configure_async(sim, "transform", max_retries=2,
                    dead_letter_queue=DeadLetterQueue("etl-failures"))
    sim.add_source(raw, target="transform")
    sim.add_source(clean, target="catalog")
    return sim
