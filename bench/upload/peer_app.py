"""The peer of bench/upload: the result-upload service a Python team would otherwise write.

FastAPI + pydantic (v1, as Debian 12 ships it: python3-pydantic 1.10) + uvicorn, validating the
TransactionResultBaseModel (the upload contract, spec transaction-result.md) and inserting into
SQLite in WAL mode with synchronous=FULL, so that an answered upload survives a power cut — the
same durable acknowledgement PrimoART gives. One transaction per request; idempotent on run_id
(INSERT OR IGNORE); the 200 body is the spec's {"accepted", "duplicates", "results"}.

Run (bench/upload/run does this):
    PEER_TOKEN=secret PEER_DB=/tmp/peer.db \
      /usr/bin/python3 -m uvicorn peer_app:app --app-dir bench/upload \
        --host 127.0.0.1 --port 8000 --workers 4 --http httptools --loop uvloop \
        --no-access-log --log-level warning

Workers: 4, the best of 1, 2 and 4 on the 2-core bench machine with 16 keep-alive clients; the
figures are beside PEER_WORKERS in bench/upload/run. Writers queue on a mutex and a file lock
rather than in SQLite's busy handler (see _store), which is what makes several workers pay off.

Environment: PEER_TOKEN (required; the one accepted Bearer token), PEER_DB (SQLite file).
"""

import datetime as dt
import fcntl
import hmac
import os
import re
import sqlite3
import threading
import time
from typing import Dict, List, Literal, Optional, Union

from fastapi import Depends, FastAPI, Header, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import (BaseModel, Extra, StrictBool, StrictFloat, StrictInt, conint, conlist,
                      constr, root_validator, validator)

TOKEN = os.environ.get("PEER_TOKEN", "")
DB_PATH = os.environ.get("PEER_DB", "peer.db")
if not TOKEN:
    raise SystemExit("peer_app: set PEER_TOKEN")

# --- the model -----------------------------------------------------------------------------------

# RFC 3339 with 'Z' or an offset and at least millisecond precision.
_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})\.(\d{3,})([Zz]|[+-]\d{2}:\d{2})$")
_MAX_FUTURE = dt.timedelta(hours=24)
_TOLERANCE = dt.timedelta(seconds=1)


class Timestamp(dt.datetime):
    """A datetime that only accepts the spec's wire form (pydantic's own parser also takes Unix
    numbers, missing offsets and missing fractions)."""

    @classmethod
    def __get_validators__(cls):
        yield cls.validate

    @classmethod
    def validate(cls, v):
        if not isinstance(v, str):
            raise TypeError("must be an RFC 3339 string")
        m = _RFC3339.match(v)
        if not m:
            raise ValueError("must be RFC 3339 with an offset or Z and millisecond precision")
        year, month, day, hour, minute, second, frac, offset = m.groups()
        if offset in ("Z", "z"):
            tz = dt.timezone.utc
        else:
            sign = 1 if offset[0] == "+" else -1
            tz = dt.timezone(sign * dt.timedelta(hours=int(offset[1:3]), minutes=int(offset[4:6])))
        try:
            value = dt.datetime(int(year), int(month), int(day), int(hour), int(minute),
                                int(second), int(frac[:6].ljust(6, "0")), tzinfo=tz)
        except ValueError as e:
            raise ValueError(f"not a valid time: {e}") from None
        if value > dt.datetime.now(dt.timezone.utc) + _MAX_FUTURE:
            raise ValueError("more than 24 h in the future")
        return value


Str = constr(strict=True)
TransactionId = constr(strict=True, min_length=1, max_length=128, regex=r"^[A-Za-z0-9._:-]+$")
NonNegative = Union[StrictInt, StrictFloat]  # JSON numbers; bounds checked in validators


def _non_negative(v):
    if v is not None and v < 0:
        raise ValueError("must be >= 0")
    return v


class ErrorInfo(BaseModel, extra=Extra.allow):
    step_index: Optional[StrictInt] = None
    type: Literal["assertion", "timeout", "http", "network", "script", "other"]
    message: constr(strict=True, max_length=4096)


class Timings(BaseModel, extra=Extra.allow):
    dns_ms: Optional[NonNegative] = None
    connect_ms: Optional[NonNegative] = None
    tls_ms: Optional[NonNegative] = None
    ttfb_ms: Optional[NonNegative] = None
    download_ms: Optional[NonNegative] = None
    dom_content_loaded_ms: Optional[NonNegative] = None
    load_ms: Optional[NonNegative] = None
    lcp_ms: Optional[NonNegative] = None
    cls: Optional[NonNegative] = None
    inp_ms: Optional[NonNegative] = None

    _check = validator("*", allow_reuse=True)(_non_negative)


class HttpInfo(BaseModel, extra=Extra.allow):
    method: Optional[Str] = None
    url: Optional[constr(strict=True, max_length=2048)] = None
    status_code: Optional[conint(strict=True, ge=100, le=599)] = None
    response_bytes: Optional[conint(strict=True, ge=0)] = None


class Assertion(BaseModel, extra=Extra.allow):
    type: Str
    passed: StrictBool
    message: Optional[constr(strict=True, max_length=1024)] = None


class Step(BaseModel, extra=Extra.allow):
    index: conint(strict=True, ge=0)
    name: constr(strict=True, min_length=1, max_length=256)
    started_at: Timestamp
    finished_at: Timestamp
    duration_ms: Optional[NonNegative] = None
    status: Literal["success", "error", "skipped"]
    error_message: Optional[constr(strict=True, max_length=4096)] = None
    timings: Optional[Timings] = None
    http: Optional[HttpInfo] = None
    screenshot: Optional[Str] = None
    assertions: Optional[conlist(Assertion, max_items=100)] = None
    details: Optional[Dict[constr(strict=True, max_length=64),
                           Union[StrictInt, StrictFloat, constr(strict=True, max_length=1024)]]] = None

    _check_duration = validator("duration_ms", allow_reuse=True)(_non_negative)

    @validator("details")
    def _details_size(cls, v):
        if v is not None and len(v) > 32:
            raise ValueError("at most 32 pairs")
        return v

    @root_validator(skip_on_failure=True)
    def _interval(cls, values):
        if values["finished_at"] < values["started_at"]:
            raise ValueError("finished_at is before started_at")
        return values


class TransactionResult(BaseModel, extra=Extra.allow):
    run_id: constr(strict=True, min_length=1, max_length=128)
    transaction_id: TransactionId
    transaction_name: Optional[constr(strict=True, max_length=256)] = None
    robot_id: constr(strict=True, min_length=1)
    location: Optional[Str] = None
    started_at: Timestamp
    finished_at: Timestamp
    duration_ms: Optional[NonNegative] = None
    status: Literal["success", "error"]
    error: Optional[ErrorInfo] = None
    steps: conlist(Step, min_items=1, max_items=500)
    attributes: Optional[Dict[constr(strict=True, max_length=128),
                              constr(strict=True, max_length=1024)]] = None

    _check_duration = validator("duration_ms", allow_reuse=True)(_non_negative)

    @validator("attributes")
    def _attributes_size(cls, v):
        if v is not None and len(v) > 64:
            raise ValueError("at most 64 pairs")
        return v

    @validator("steps")
    def _unique_index(cls, steps):
        seen = set()
        for s in steps:
            if s.index in seen:
                raise ValueError(f"step index {s.index} appears twice")
            seen.add(s.index)
        return steps

    @root_validator(skip_on_failure=True)
    def _consistency(cls, values):
        started, finished = values["started_at"], values["finished_at"]
        if finished < started:
            raise ValueError("finished_at is before started_at")
        if values["status"] == "error" and values.get("error") is None:
            raise ValueError("error is required when status is error")
        for s in values["steps"]:
            if s.started_at < started - _TOLERANCE or s.finished_at > finished + _TOLERANCE:
                raise ValueError(f"step {s.index} is outside the transaction's interval")
        return values


# --- storage -------------------------------------------------------------------------------------

_SCHEMA = """
CREATE TABLE IF NOT EXISTS transactions (
  id TEXT PRIMARY KEY, name TEXT, external INTEGER NOT NULL, created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS transaction_results (
  run_id TEXT PRIMARY KEY, transaction_id TEXT NOT NULL, robot_id TEXT NOT NULL, location TEXT,
  started_at INTEGER NOT NULL, finished_at INTEGER NOT NULL, duration_ms REAL NOT NULL,
  status TEXT NOT NULL, error_type TEXT, error_step_index INTEGER, error_message TEXT,
  raw TEXT NOT NULL, received_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS transaction_results_by_tx
  ON transaction_results (transaction_id, started_at);
CREATE TABLE IF NOT EXISTS transaction_steps (
  run_id TEXT NOT NULL, step_index INTEGER NOT NULL, name TEXT NOT NULL,
  started_at INTEGER NOT NULL, finished_at INTEGER NOT NULL, duration_ms REAL NOT NULL,
  status TEXT NOT NULL, error_message TEXT, dns_ms REAL, connect_ms REAL, tls_ms REAL,
  ttfb_ms REAL, download_ms REAL, http_status INTEGER,
  PRIMARY KEY (run_id, step_index)) WITHOUT ROWID;
"""

_local = threading.local()
_schema_lock = threading.Lock()


def _connection() -> sqlite3.Connection:
    """One connection per thread (FastAPI runs sync endpoints in a thread pool)."""
    conn = getattr(_local, "conn", None)
    if conn is None:
        conn = sqlite3.connect(DB_PATH, timeout=30, isolation_level=None, check_same_thread=True)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA busy_timeout=30000")
        with _schema_lock:
            conn.executescript(_SCHEMA)
        _local.conn = conn
    return conn


def _ms(t: dt.datetime) -> int:
    return int(t.timestamp() * 1000)


def _rows(r: TransactionResult, now: int):
    """The result's row and its steps' rows, built before taking the write lock."""
    started, finished = _ms(r.started_at), _ms(r.finished_at)
    err = r.error
    result = (r.run_id, r.transaction_id, r.robot_id, r.location, started, finished,
              r.duration_ms if r.duration_ms is not None else finished - started, r.status,
              err.type if err else None, err.step_index if err else None,
              err.message if err else None, r.json(exclude_unset=True, ensure_ascii=False), now)
    steps = []
    for s in r.steps:
        s_started, s_finished = _ms(s.started_at), _ms(s.finished_at)
        t = s.timings
        steps.append((r.run_id, s.index, s.name, s_started, s_finished,
                      s.duration_ms if s.duration_ms is not None else s_finished - s_started,
                      s.status, s.error_message,
                      t.dns_ms if t else None, t.connect_ms if t else None,
                      t.tls_ms if t else None, t.ttfb_ms if t else None,
                      t.download_ms if t else None, s.http.status_code if s.http else None))
    return result, (r.transaction_id, r.transaction_name, now), steps


_write_lock = threading.Lock()
_lock_file = None


def _store(results: List[TransactionResult]) -> List[dict]:
    now = int(time.time() * 1000)
    rows = [_rows(r, now) for r in results]
    # SQLite takes one writer at a time. Queueing writers on a lock — the pool's threads on a
    # mutex, the uvicorn workers on a file lock — is fairer and much cheaper than letting them
    # retry in SQLite's busy handler, which sleeps up to 100 ms between attempts.
    global _lock_file
    with _write_lock:
        if _lock_file is None:
            _lock_file = open(DB_PATH + ".lock", "a")
        fcntl.flock(_lock_file, fcntl.LOCK_EX)
        try:
            return _insert(_connection(), rows)
        finally:
            fcntl.flock(_lock_file, fcntl.LOCK_UN)


def _insert(conn: sqlite3.Connection, rows) -> List[dict]:
    """One transaction for the whole request: all of it is stored, or none."""
    outcome = []
    conn.execute("BEGIN IMMEDIATE")
    try:
        for result, transaction, steps in rows:
            cur = conn.execute(
                "INSERT OR IGNORE INTO transaction_results VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                result)
            if cur.rowcount == 0:
                outcome.append({"run_id": result[0], "status": "duplicate"})
                continue
            conn.execute("INSERT OR IGNORE INTO transactions VALUES (?,?,1,?)", transaction)
            conn.executemany(
                "INSERT INTO transaction_steps VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", steps)
            outcome.append({"run_id": result[0], "status": "created"})
        conn.execute("COMMIT")  # synchronous=FULL: the WAL is fsynced before this returns
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return outcome


# --- the service ---------------------------------------------------------------------------------

app = FastAPI(title="bench/upload peer", openapi_url=None, docs_url=None, redoc_url=None)


def check_request(authorization: Optional[str] = Header(None),
                  content_type: Optional[str] = Header(None)) -> None:
    if not authorization or not authorization.startswith("Bearer "):
        raise HTTPException(401, {"error": "unauthorized", "message": "missing bearer token"})
    if not hmac.compare_digest(authorization[7:].encode(), TOKEN.encode()):
        raise HTTPException(401, {"error": "unauthorized", "message": "invalid token"})
    if (content_type or "").split(";")[0].strip().lower() != "application/json":
        raise HTTPException(415, {"error": "unsupported_media_type",
                                  "message": "send application/json"})


def _from_list_reading(error) -> bool:
    loc = error["loc"]
    return (len(loc) > 1 and isinstance(loc[1], int)) or (
        len(loc) == 1 and error["type"] != "type_error.dict")


@app.exception_handler(RequestValidationError)
async def _validation_error(request: Request, exc: RequestValidationError):
    errors = exc.errors()
    for e in errors:
        if e["type"] == "value_error.jsondecode":
            return JSONResponse({"error": "bad_request", "message": e["msg"]}, status_code=400)
    # The body is "an array or an object", and pydantic reports the problems of both readings;
    # keep those of the reading that matches the body's JSON type.
    if isinstance(exc.body, list):
        errors = [e for e in errors if _from_list_reading(e)]
    elif isinstance(exc.body, dict):
        errors = [e for e in errors if not _from_list_reading(e)]
    details = []
    for e in errors:
        loc = [p for p in e["loc"] if p != "body"]
        path = ""
        for p in loc:
            if isinstance(p, int):
                path += f"[{p}]"
            elif p not in ("__root__",):
                path += ("." if path else "") + str(p)
        details.append({"path": path, "message": e["msg"]})
    return JSONResponse({"error": "validation", "details": details}, status_code=422)


@app.exception_handler(HTTPException)
async def _http_error(request: Request, exc: HTTPException):
    return JSONResponse(exc.detail, status_code=exc.status_code)


@app.post("/api/v1/transactions/results/upload", dependencies=[Depends(check_request)])
def upload(body: Union[conlist(TransactionResult, min_items=1, max_items=1000), TransactionResult]):
    # A plain `def`: FastAPI runs it in its thread pool, so the event loop keeps parsing and
    # validating other requests while this one waits for SQLite's fsync.
    results = body if isinstance(body, list) else [body]
    outcome = _store(results)
    created = sum(1 for o in outcome if o["status"] == "created")
    return {"accepted": created, "duplicates": len(outcome) - created, "results": outcome}


@app.get("/healthz")
async def healthz():
    return {"status": "ok"}
