"""Provision PostgreSQL and Redis for a test run, run a command, clean up.

Usage (from the repo root; scripts/test.sh does this):

    .venv/bin/python tests/_services.py run -- <cmd> [args...]
    .venv/bin/python -m tests._services run -- <cmd> [args...]

PostgreSQL, in order of preference:
  1. ``XINEX_TEST_DATABASE_URL`` when set. If it names a superuser, a fresh database is
     provisioned on that server (below); otherwise it is passed through untouched
     (together with ``XINEX_TEST_ADMIN_DATABASE_URL`` if set).
  2. a server on 127.0.0.1:5432 that lets the superuser ``postgres`` in (trust);
  3. a throwaway cluster (initdb + pg_ctl, run as the ``postgres`` user when we are
     root) in a temp dir on a free port, stopped and deleted at the end.
  On the chosen server: a fresh database ``xinex_test_<random>`` owned by the
  non-superuser role ``xinex_app`` (password ``xinex_app``, NOSUPERUSER, NOBYPASSRLS),
  so row-level security applies; dropped at the end.

Redis, in order of preference:
  1. ``XINEX_TEST_REDIS_URL`` when set (passed through untouched);
  2. 127.0.0.1:6379 if it answers PING, using a random database 1-15 (an empty one
     if possible), flushed at the start and at the end;
  3. a throwaway ``redis-server`` child process on a free port.

``XINEX_TEST_FORCE_THROWAWAY=1`` skips step 2 for both (always start throwaway servers).

Exported to the command: ``XINEX_TEST_DATABASE_URL`` (asyncpg URL as xinex_app),
``XINEX_TEST_ADMIN_DATABASE_URL`` (asyncpg URL as superuser, same database),
``XINEX_TEST_REDIS_URL``.

Only the standard library, asyncpg and redis-py are used.
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import quote, urlsplit, urlunsplit

APP_ROLE = "xinex_app"
APP_PASSWORD = "xinex_app"
LOCAL_HOST = "127.0.0.1"
LOCAL_PG_PORT = 5432
LOCAL_REDIS_PORT = 6379
SUPERUSER = "postgres"


def log(msg: str) -> None:
    print(f"[test-services] {msg}", file=sys.stderr, flush=True)


def env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((LOCAL_HOST, 0))
        return s.getsockname()[1]


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


# ----------------------------------------------------------------------------- URLs


def to_asyncpg_url(url: str) -> str:
    """postgres://, postgresql://, postgresql+psycopg:// ... -> postgresql+asyncpg://"""
    parts = urlsplit(url)
    return urlunsplit(("postgresql+asyncpg", *parts[1:]))


def to_plain_url(url: str) -> str:
    """Any SQLAlchemy-style PostgreSQL URL -> postgresql:// (what asyncpg.connect takes)."""
    parts = urlsplit(url)
    return urlunsplit(("postgresql", *parts[1:]))


def with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + database, parts.query, parts.fragment))


def with_credentials(url: str, user: str, password: str | None) -> str:
    parts = urlsplit(url)
    host = parts.hostname or LOCAL_HOST
    if ":" in host:
        host = f"[{host}]"
    netloc = quote(user, safe="")
    if password is not None:
        netloc += ":" + quote(password, safe="")
    netloc += f"@{host}"
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def pg_url(user: str, password: str | None, port: int, database: str, host: str = LOCAL_HOST) -> str:
    cred = quote(user, safe="") + (":" + quote(password, safe="") if password is not None else "")
    return f"postgresql://{cred}@{host}:{port}/{database}"


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


# ----------------------------------------------------------------------------- PostgreSQL


async def _pg_fetchval(url: str, sql: str, timeout: float = 5.0):
    import asyncpg

    conn = await asyncpg.connect(to_plain_url(url), timeout=timeout)
    try:
        return await conn.fetchval(sql)
    finally:
        await conn.close()


def pg_is_superuser(url: str) -> bool | None:
    """True/False for a reachable server, None when we cannot log in."""
    try:
        return bool(
            asyncio.run(_pg_fetchval(url, "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"))
        )
    except Exception as exc:  # connection refused, auth failure, timeout, ...
        log(f"cannot use {redact(url)}: {type(exc).__name__}: {exc}")
        return None


def redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password and parts.password != APP_PASSWORD:
        return url.replace(":" + quote(parts.password, safe="") + "@", ":***@", 1)
    return url


async def _provision_database(admin_url: str, database: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(to_plain_url(admin_url), timeout=10)
    try:
        role_attrs = (
            f"LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEROLE NOCREATEDB PASSWORD {quote_literal(APP_PASSWORD)}"
        )
        exists = await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", APP_ROLE)
        if not exists:
            try:
                await conn.execute(f"CREATE ROLE {quote_ident(APP_ROLE)} {role_attrs}")
            except asyncpg.DuplicateObjectError:  # a concurrent run created it
                pass
        # Make sure an existing role has the attributes we rely on (RLS must apply).
        await conn.execute(f"ALTER ROLE {quote_ident(APP_ROLE)} {role_attrs}")
        await conn.execute(
            f"CREATE DATABASE {quote_ident(database)} OWNER {quote_ident(APP_ROLE)} "
            "ENCODING 'UTF8' TEMPLATE template0"
        )
    finally:
        await conn.close()
    # PostgreSQL 15: schema public belongs to pg_database_owner, i.e. xinex_app. Older
    # servers: hand it over explicitly so migrations can create tables.
    conn = await asyncpg.connect(to_plain_url(with_database(admin_url, database)), timeout=10)
    try:
        await conn.execute(f"ALTER SCHEMA public OWNER TO {quote_ident(APP_ROLE)}")
    finally:
        await conn.close()


async def _drop_database(admin_url: str, database: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(to_plain_url(admin_url), timeout=10)
    try:
        version = conn.get_server_version()
        force = " WITH (FORCE)" if version.major >= 13 else ""
        await conn.execute(f"DROP DATABASE IF EXISTS {quote_ident(database)}{force}")
    finally:
        await conn.close()


def service_user() -> tuple[str, list[str]]:
    """(owner of the cluster files, command prefix to run a program as that owner)."""
    if os.geteuid() != 0:
        return pwd.getpwuid(os.geteuid()).pw_name, []
    for name in ("postgres", "xinex-pg"):
        try:
            pwd.getpwnam(name)
            break
        except KeyError:
            continue
    else:
        name = "xinex-pg"
        log(f"creating system user {name} to run the throwaway PostgreSQL")
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
            check=True,
        )
    runner = shutil.which("runuser") or "/usr/sbin/runuser"
    if os.path.exists(runner):
        return name, [runner, "-u", name, "--"]
    return name, ["su", "-s", "/bin/sh", name, "-c"]  # pragma: no cover (no util-linux)


def _as_user(prefix: list[str], argv: list[str]) -> list[str]:
    if prefix and prefix[0] == "su":
        return [*prefix, " ".join(map(_shquote, argv))]
    return [*prefix, *argv]


def _shquote(s: str) -> str:
    import shlex

    return shlex.quote(s)


def pg_bindir() -> str:
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0,
    )
    if candidates:
        return os.path.dirname(candidates[-1])
    found = shutil.which("initdb")
    if found:
        return os.path.dirname(found)
    raise RuntimeError(
        "no PostgreSQL server binaries (initdb) found; run scripts/install-system-deps.sh "
        "or set XINEX_TEST_DATABASE_URL"
    )


@dataclass
class PgServer:
    admin_url: str  # superuser, database "postgres", plain postgresql:// form
    stop: Callable[[], None] | None = None


def start_throwaway_postgres() -> PgServer:
    bindir = pg_bindir()
    owner, prefix = service_user()
    pw = pwd.getpwnam(owner)
    root = tempfile.mkdtemp(prefix="xinex-test-pg-")
    os.chmod(root, 0o700)
    os.chown(root, pw.pw_uid, pw.pw_gid)
    data = os.path.join(root, "data")
    logfile = os.path.join(root, "postgres.log")
    port = free_port()
    log(f"starting throwaway PostgreSQL ({bindir}) as {owner} on {LOCAL_HOST}:{port} in {root}")
    t0 = time.monotonic()
    run = dict(check=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=root)

    def cleanup_dir() -> None:
        shutil.rmtree(root, ignore_errors=True)

    try:
        subprocess.run(
            _as_user(
                prefix,
                [
                    f"{bindir}/initdb",
                    "-D",
                    data,
                    "-U",
                    SUPERUSER,
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--locale=C",
                    "--no-sync",
                ],
            ),
            **run,
        )
        opts = " ".join(
            [
                f"-p {port}",
                f"-k {root}",
                f"-c listen_addresses={LOCAL_HOST}",
                "-c fsync=off",
                "-c synchronous_commit=off",
                "-c full_page_writes=off",
                "-c max_connections=300",
                "-c shared_buffers=128MB",
            ]
        )
        subprocess.run(
            _as_user(
                prefix, [f"{bindir}/pg_ctl", "-D", data, "-l", logfile, "-w", "-t", "60", "-o", opts, "start"]
            ),
            **run,
        )
    except subprocess.CalledProcessError as exc:
        out = exc.stdout.decode(errors="replace") if exc.stdout else ""
        with contextlib.suppress(OSError), open(logfile) as fh:
            out += "\n" + fh.read()
        cleanup_dir()
        raise RuntimeError(f"throwaway PostgreSQL failed to start:\n{out}") from exc
    log(f"PostgreSQL up in {time.monotonic() - t0:.1f}s")

    def stop() -> None:
        subprocess.run(
            _as_user(prefix, [f"{bindir}/pg_ctl", "-D", data, "-m", "immediate", "-w", "stop"]),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=root,
        )
        cleanup_dir()
        log("throwaway PostgreSQL stopped")

    return PgServer(admin_url=pg_url(SUPERUSER, None, port, "postgres"), stop=stop)


@dataclass
class PgResult:
    app_url: str  # asyncpg form
    admin_url: str  # asyncpg form


@contextlib.contextmanager
def postgres() -> Iterator[PgResult]:
    given = os.environ.get("XINEX_TEST_DATABASE_URL", "").strip()
    server: PgServer | None = None
    if given:
        superuser = pg_is_superuser(given)
        if superuser:
            log(f"using PostgreSQL from XINEX_TEST_DATABASE_URL ({redact(given)}) to provision")
            server = PgServer(admin_url=to_plain_url(given))
        else:
            if superuser is False:
                log("XINEX_TEST_DATABASE_URL is not a superuser: passing it through unchanged")
            admin = os.environ.get("XINEX_TEST_ADMIN_DATABASE_URL", "").strip() or given
            yield PgResult(app_url=to_asyncpg_url(given), admin_url=to_asyncpg_url(admin))
            return
    elif env_flag("XINEX_TEST_FORCE_THROWAWAY"):
        log("XINEX_TEST_FORCE_THROWAWAY=1: not looking for a local PostgreSQL")
    elif port_open(LOCAL_HOST, LOCAL_PG_PORT):
        local = pg_url(SUPERUSER, None, LOCAL_PG_PORT, "postgres")
        if pg_is_superuser(local):
            log(f"using local PostgreSQL on {LOCAL_HOST}:{LOCAL_PG_PORT}")
            server = PgServer(admin_url=local)
        else:
            log(
                f"local PostgreSQL on {LOCAL_HOST}:{LOCAL_PG_PORT} does not let {SUPERUSER} in; "
                "starting a throwaway one"
            )

    if server is None:
        server = start_throwaway_postgres()
    database = "xinex_test_" + secrets.token_hex(5)
    try:
        asyncio.run(_provision_database(server.admin_url, database))
        log(f"database {database} owned by {APP_ROLE} (NOSUPERUSER, NOBYPASSRLS)")
        admin_db = with_database(server.admin_url, database)
        app_db = with_credentials(admin_db, APP_ROLE, APP_PASSWORD)
        try:
            yield PgResult(app_url=to_asyncpg_url(app_db), admin_url=to_asyncpg_url(admin_db))
        finally:
            if server.stop is None:  # shared server: drop our database
                try:
                    asyncio.run(_drop_database(server.admin_url, database))
                    log(f"dropped database {database}")
                except Exception as exc:
                    log(f"could not drop database {database}: {exc}")
    finally:
        if server.stop is not None:
            server.stop()


# ----------------------------------------------------------------------------- Redis


def _redis(url: str):
    import redis

    return redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)


def redis_pings(url: str) -> bool:
    try:
        client = _redis(url)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:
        return False


def _pick_db(url: str) -> int:
    """A random database 1-15, preferring empty ones (concurrent runs share the server)."""
    client = _redis(url)
    try:
        used = {int(k[2:]) for k in client.info("keyspace") if str(k).startswith("db")}
    finally:
        client.close()
    free = [n for n in range(1, 16) if n not in used]
    return secrets.choice(free or list(range(1, 16)))


def _flushdb(url: str) -> None:
    client = _redis(url)
    try:
        client.flushdb()
    finally:
        client.close()


@contextlib.contextmanager
def redis_server() -> Iterator[str]:
    given = os.environ.get("XINEX_TEST_REDIS_URL", "").strip()
    if given:
        log(f"using Redis from XINEX_TEST_REDIS_URL ({redact(given)})")
        yield given
        return
    local = f"redis://{LOCAL_HOST}:{LOCAL_REDIS_PORT}/0"
    if env_flag("XINEX_TEST_FORCE_THROWAWAY"):
        log("XINEX_TEST_FORCE_THROWAWAY=1: not looking for a local Redis")
    elif port_open(LOCAL_HOST, LOCAL_REDIS_PORT) and redis_pings(local):
        db = _pick_db(local)
        url = f"redis://{LOCAL_HOST}:{LOCAL_REDIS_PORT}/{db}"
        _flushdb(url)
        log(f"using local Redis on {LOCAL_HOST}:{LOCAL_REDIS_PORT}, database {db} (flushed)")
        try:
            yield url
        finally:
            with contextlib.suppress(Exception):
                _flushdb(url)
        return

    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not os.path.exists(binary):
        raise RuntimeError(
            "redis-server not found; run scripts/install-system-deps.sh or set XINEX_TEST_REDIS_URL"
        )
    port = free_port()
    workdir = tempfile.mkdtemp(prefix="xinex-test-redis-")
    log(f"starting throwaway Redis on {LOCAL_HOST}:{port}")
    proc = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            LOCAL_HOST,
            "--save",
            "",
            "--appendonly",
            "no",
            "--daemonize",
            "no",
            "--dir",
            workdir,
            "--loglevel",
            "warning",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=workdir,
    )
    url = f"redis://{LOCAL_HOST}:{port}/0"
    try:
        deadline = time.monotonic() + 20
        while not redis_pings(url):
            if proc.poll() is not None:
                raise RuntimeError(f"redis-server exited with {proc.returncode}")
            if time.monotonic() > deadline:
                raise RuntimeError("redis-server did not answer PING within 20s")
            time.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(workdir, ignore_errors=True)
        log("throwaway Redis stopped")


# ----------------------------------------------------------------------------- runner


class _Terminated(BaseException):
    pass


def run(cmd: list[str]) -> int:
    if not cmd:
        log("nothing to run")
        return 2

    def on_term(signum, frame):  # noqa: ARG001
        raise _Terminated(signum)

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGHUP, on_term)
    child: subprocess.Popen | None = None
    try:
        with postgres() as pg, redis_server() as redis_url:
            env = dict(os.environ)
            env["XINEX_TEST_DATABASE_URL"] = pg.app_url
            env["XINEX_TEST_ADMIN_DATABASE_URL"] = pg.admin_url
            env["XINEX_TEST_REDIS_URL"] = redis_url
            log(f"XINEX_TEST_DATABASE_URL={redact(pg.app_url)}")
            log(f"XINEX_TEST_ADMIN_DATABASE_URL={redact(pg.admin_url)}")
            log(f"XINEX_TEST_REDIS_URL={redis_url}")
            child = subprocess.Popen(cmd, env=env)
            try:
                return child.wait()
            except KeyboardInterrupt:  # Ctrl-C reaches the child too; let it finish
                return child.wait()
    except _Terminated as exc:
        if child is not None and child.poll() is None:
            child.send_signal(exc.args[0])
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                child.kill()
        return 128 + int(exc.args[0])
    except KeyboardInterrupt:
        return 130
    except RuntimeError as exc:
        log(f"error: {exc}")
        return 3


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] != "run":
        print(__doc__, file=sys.stderr)
        print("usage: python tests/_services.py run -- <cmd> [args...]", file=sys.stderr)
        return 2
    rest = argv[1:]
    if rest and rest[0] == "--":
        rest = rest[1:]
    return run(rest)


if __name__ == "__main__":
    # Run as a script, sys.path[0] is tests/: keep test modules from shadowing libraries.
    _here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _here]
    sys.exit(main())
