"""Batch workers on a Ray cluster: `get_hpe_video.py --video_file ... --ray [ADDRESS]`.

Each Ray actor is one batch worker (pose.app.batch.worker.VideoWorker): it loads the model once
and runs one video at a time, handed to it by the driver, which keeps the progress bar,
the manifest and resume exactly as for local workers. Actors open the inputs and write
the outputs at the driver's absolute paths, so every node must see the same files there
(a shared filesystem, or object storage mounted at the same path).

Ray is optional (requirements-ray.txt); this module imports it only when --ray is used.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
import warnings
from contextlib import contextmanager
from dataclasses import replace
from typing import Callable, Dict, Iterator, List, Optional, Tuple
from urllib.parse import urlsplit

from pose.app.batch.events import FRAME_REPORT_S, SHUTDOWN_WAIT_S, Died, Done, Event, Fatal, Frames, Ready
from pose.app.batch.jobs import RAY_LOCAL, Job
from pose.app.batch.worker import Abandoned, FrameCounter, VideoWorker, WorkerSettings, collected_warnings
from pose.core.errors import EXIT_FAILED, PoseError, UsageError
from pose.core.paths import PROJECT_DIR, is_checkout
from pose.core.signals import signals_held

RAY_INSTALL = "pip install -r requirements-ray.txt"
# A CPU actor's cores when --workers does not say. With OpenVINO (the default engine) one
# 2-thread worker ran 1.2x faster than two 1-thread ones on short clips (README, "Many
# videos", Workers); bigger shares were not measured.
CPUS_PER_ACTOR = 2
# An actor answers take_frames() and stop() while it runs a video.
ACTOR_CONCURRENCY = 4


def import_ray():
    """The ray module, or a one-line UsageError saying how to install it."""
    try:
        import ray
    except ImportError:
        raise UsageError(f"--ray needs Ray, which is not installed here ({RAY_INSTALL})") from None
    return ray


class PoseActor:
    """The body of a Ray actor (wrapped with ray.remote when the pool starts)."""

    def __init__(self, settings: WorkerSettings, threads: int, device: Optional[str]):
        self._stop = threading.Event()
        self._frames = 0
        self._lock = threading.Lock()
        logging.getLogger("pose").propagate = False  # warnings travel in the records
        self.worker: Optional[VideoWorker] = None
        self.failure: Optional[Tuple[str, int]] = None
        with collected_warnings():
            try:
                self.worker = VideoWorker(settings, threads, device)
            except PoseError as exc:
                self.failure = (str(exc), exc.exit_code)
            except Exception as exc:
                self.failure = (f"unexpected {type(exc).__name__}: {exc}", EXIT_FAILED)

    def ready(self) -> Event:
        """Ready or Fatal; the pool sets the actor's index."""
        if self.worker is None:
            return Fatal(-1, *self.failure)
        return Ready(-1, self.worker.label, list(self.worker.load_warnings))

    def process(self, job: Job) -> dict:
        if self._stop.is_set():
            return {"source": str(job.source), "status": "cancelled"}
        counter = FrameCounter(self._add_frames, self._stop)
        try:
            return self.worker.process(job, counter)
        except Abandoned:
            return {"source": str(job.source), "status": "cancelled"}
        finally:
            counter.flush()

    def _add_frames(self, n: int) -> None:
        with self._lock:
            self._frames += n

    def take_frames(self) -> int:
        with self._lock:
            n, self._frames = self._frames, 0
        return n

    def stop(self) -> None:
        self._stop.set()


# How long a cluster's address may take to accept a TCP connection: ray.init retries an
# unreachable address for minutes, deaf to Ctrl-C.
REACH_TIMEOUT_S = 5.0


def _check_reachable(address: str, where: str) -> None:
    """One line now when nothing listens at `address` (host:port or ray://host:port)."""
    if address in (RAY_LOCAL, "auto"):
        return
    hostport = address.split("://", 1)[1] if "://" in address else address
    parts = urlsplit("//" + hostport.split("/", 1)[0])
    try:
        port = parts.port or (10001 if address.startswith("ray://") else 6379)
    except ValueError:
        raise PoseError(f"cannot reach {where}: not a host:port address") from None
    host = parts.hostname or "127.0.0.1"
    try:
        socket.create_connection((host, port), timeout=REACH_TIMEOUT_S).close()
    except OSError as exc:
        raise PoseError(f"cannot reach {where}: {exc.strerror or exc}") from None
    if address.startswith("ray://"):
        _check_ray_client(f"{host}:{port}", where)


def _check_ray_client(hostport: str, where: str) -> None:
    """One line now when what listens at `hostport` is not a Ray client server (a wrong
    port: a dashboard's, a GCS's): Ray's client retried it for 30 s and then printed a
    UserWarning before its error. Asked as Ray's client asks, with a ping, but once."""
    try:
        import grpc
        from ray._private.grpc_utils import init_grpc_channel  # TLS and token auth as Ray's client sets them
        from ray.core.generated import ray_client_pb2, ray_client_pb2_grpc
    except ImportError:  # another Ray's layout: its own connection says what is wrong, later
        return
    channel = init_grpc_channel(hostport, asynchronous=False)
    try:
        grpc.channel_ready_future(channel).result(timeout=REACH_TIMEOUT_S)
        ray_client_pb2_grpc.RayletDriverStub(channel).ClusterInfo(
            ray_client_pb2.ClusterInfoRequest(type=ray_client_pb2.ClusterInfoType.PING), timeout=REACH_TIMEOUT_S,
            metadata=[("client_id", uuid.uuid4().hex)])  # the server refuses a call without one
    except grpc.FutureTimeoutError:
        raise PoseError(f"cannot reach {where}: what listens there speaks no gRPC (a Ray client port, "
                        "10001 by default, does)") from None
    except grpc.RpcError as exc:
        if exc.code() == grpc.StatusCode.UNIMPLEMENTED:  # a gRPC server, but not Ray's client server
            raise PoseError(f"cannot reach {where}: no Ray client server answers there (a Ray client port "
                            "is 10001 by default)") from None
        raise PoseError(f"cannot reach {where}: {exc.code().name}: {_first_line(exc.details() or '')}") from None
    finally:
        channel.close()


@contextmanager
def _ray_leaves_signals_alone(ray) -> Iterator[None]:
    """ray.init without Ray's own SIGTERM handlers: ray.init sets one that exits 15 (and its
    new node one that exits 1), and the driver's core worker a C++ one that aborts (134), so
    a SIGTERM while Ray started ended the run by them, before our cleanup, leaving Ray's
    processes behind. Within the block Ray sets neither and the tool's handler stays (both
    knobs are Ray's private ones: where one is gone, that one is simply left as it is)."""
    private = getattr(ray, "_private", None)
    utils, constants = getattr(private, "utils", None), getattr(private, "ray_constants", None)
    saved = []
    for module, name, value in ((utils, "set_sigterm_handler", lambda handler: None),
                                (constants, "RAY_DISABLE_FAILURE_SIGNAL_HANDLER", True)):
        if hasattr(module, name):
            saved.append((module, name, getattr(module, name)))
            setattr(module, name, value)
    try:
        yield
    finally:
        for module, name, value in saved:
            setattr(module, name, value)


def _code_path() -> Optional[Dict]:
    """A checkout's folder on the job's PYTHONPATH. A driver that joins a cluster directly
    hands its path to the workers, a Ray client (ray://) does not: there the server that
    unpickles the job found no `pose` ("No module named 'pose'"). Nodes see the checkout
    at the same path, as they see the weights (docs/batch.md); an installed package needs nothing."""
    if not is_checkout():
        return None
    path = os.pathsep.join(p for p in (str(PROJECT_DIR), os.environ.get("PYTHONPATH", "")) if p)
    return {"env_vars": {"PYTHONPATH": path}}


def _connect(ray, address: str, say: Callable[[str], None]) -> bool:
    """Join the cluster at `address` (RAY_LOCAL: start one here); True if this process
    started Ray and so must stop it."""
    if ray.is_initialized():  # a program (or a test) that already holds a Ray session
        return False
    quiet = dict(logging_level=logging.ERROR, log_to_driver=False)
    where = "a new local Ray" if address == RAY_LOCAL else f"the Ray cluster at {address}"
    _check_reachable(address, where)
    try:
        with signals_held(), _ray_leaves_signals_alone(ray), warnings.catch_warnings():
            # a stop while Ray starts is acted on once it is up; Ray's client warns before the
            # ConnectionError that becomes our one line
            warnings.filterwarnings("ignore", module=r"ray\.util\.client")
            if address == RAY_LOCAL:
                ray.init(include_dashboard=False, **quiet)
            else:
                ray.init(address=address, runtime_env=_code_path(), **quiet)
    except ConnectionError if address == "auto" else ():  # Ray's advice names flags the tool does not have
        raise PoseError("--ray auto found no running Ray cluster here: start one (ray start --head), give its "
                        "address (--ray ray://host:10001 or --ray host:6379), or use --ray alone for a new local Ray") from None
    except (OSError, RuntimeError, ValueError) as exc:  # OSError: a read-only TMPDIR, among others
        text = str(getattr(exc, "strerror", None) and f"{exc.strerror}: {exc.filename}" or exc).strip()
        first = text.splitlines()[0] if text else type(exc).__name__
        raise PoseError(f"cannot start or reach {where}: {first}") from None
    except KeyboardInterrupt:  # Ctrl-C, SIGTERM or SIGHUP held while Ray started
        if address == RAY_LOCAL and ray.is_initialized():
            ray.shutdown()  # nothing of the Ray this run started is left running
        raise
    resources = ray.cluster_resources()
    nodes = sum(1 for n in ray.nodes() if n.get("Alive"))
    gpus = f", {resources['GPU']:g} GPUs" if resources.get("GPU") else ""
    where = "a new local Ray" if address == RAY_LOCAL else f"Ray at {address}"
    say(f"ray: {where}, {nodes} node{'s' if nodes != 1 else ''}, {resources.get('CPU', 0):g} CPUs{gpus}")
    return address == RAY_LOCAL


def plan_actors(resources: Dict[str, float], workers: Optional[int], device: str,
                videos: Optional[int] = None) -> Tuple[int, float, float, Optional[str]]:
    """(actors, CPUs each, GPUs each, device for the estimator) on a cluster with these
    resources, never more actors than `videos`. GPU actors when the cluster has GPUs and
    --device asks for one (gpu or auto): a pip OpenCV has no CUDA, so --device cpu, the
    default, keeps GPUs free."""
    cpus, gpus = int(resources.get("CPU", 0)), resources.get("GPU", 0)
    if gpus and device in ("gpu", "auto"):
        actors = max(1, workers or int(gpus))  # a fraction of one GPU still runs one actor
        actors = min(actors, videos or actors)
        return actors, 1, min(1.0, gpus / actors), "gpu"
    if cpus < 1:
        raise UsageError("the Ray cluster has no CPUs to run on")
    if workers and workers > cpus:
        raise UsageError(f"--workers {workers}: the Ray cluster has {cpus} CPUs, so at most {cpus} actors can run")
    actors = workers or max(1, cpus // CPUS_PER_ACTOR)
    actors = min(actors, videos or actors)
    return actors, max(1, cpus // actors), 0.0, None


class RayPool:
    """LocalPool's interface (pose.app.batch.local_pool) over Ray actors."""

    prints_warnings = False

    def __init__(self, ray, settings: WorkerSettings, workers: Optional[int], device: str, started_here: bool,
                 videos: Optional[int] = None):
        self.ray, self.started_here = ray, started_here
        self.size, self.cpus, gpus, actor_device = plan_actors(ray.cluster_resources(), workers, device, videos)
        kind = f"{gpus:g} GPU" if gpus else f"{self.cpus} CPU{'s' if self.cpus > 1 else ''}"
        self.label = f"{self.size} Ray actor{'s' if self.size > 1 else ''}, {kind} each"
        remote = ray.remote(num_cpus=self.cpus, num_gpus=gpus, max_concurrency=ACTOR_CONCURRENCY)(PoseActor)
        self._args = (settings, self.cpus, actor_device)
        self._remote = remote
        self._actors: List = []
        self._refs: Dict = {}  # ObjectRef -> (kind, actor index)
        self._busy: set = set()
        self._dead: set = set()
        self._events: List[Event] = []
        self._last_poll = time.monotonic()

    def start(self) -> None:
        try:
            self._actors = [self._remote.remote(*self._args) for _ in range(self.size)]
        except ModuleNotFoundError as exc:  # a Ray client's server unpickles the settings where it runs
            raise PoseError(f"the Ray cluster cannot import {exc.name}: install this project's requirements "
                            "(and the project, unless run from a checkout the nodes see) on every node") from None
        for i, actor in enumerate(self._actors):
            self._refs[actor.ready.remote()] = ("ready", i)

    def submit(self, index: int, job: Job) -> None:
        self._busy.add(index)
        self._refs[self._actors[index].process.remote(job)] = ("done", index)

    def next_event(self, timeout: float) -> Optional[Event]:
        if self._events:
            return self._events.pop(0)
        if not self._refs:
            time.sleep(timeout)
            return None
        done, _ = self.ray.wait(list(self._refs), num_returns=1, timeout=timeout)
        if not done:
            self._poll_frames()
            return None
        kind, index = self._refs.pop(done[0])
        try:
            value = self.ray.get(done[0])
        except Exception as exc:  # the actor died (node lost, out of memory) or raised
            self._dead.add(index)
            self._busy.discard(index)
            return Died(index, f"the Ray actor ended unexpectedly ({_first_line(exc)})")
        if kind == "ready":
            return replace(value, index=index)
        if kind == "frames":
            return Frames(index, value) if value else None
        self._busy.discard(index)
        return Done(index, value)

    def _poll_frames(self) -> None:
        """Ask the busy actors for frames done since the last ask (they answer while working)."""
        now = time.monotonic()
        if now - self._last_poll < FRAME_REPORT_S or any(k == "frames" for k, _ in self._refs.values()):
            return
        self._last_poll = now
        for index in self._busy - self._dead:
            self._refs[self._actors[index].take_frames.remote()] = ("frames", index)

    def stop(self) -> None:
        for index, actor in enumerate(self._actors):
            if index not in self._dead:
                actor.stop.remote()

    def abandon(self) -> None:
        """End the actors now (a killed actor's temporary files are cleared when its
        video is redone)."""
        for actor in self._actors:
            self.ray.kill(actor)
        self._actors, self._refs = [], {}

    def close(self) -> None:
        """Let the videos in hand end (done, or dropped after stop()), then end the actors,
        and Ray itself if this run started it."""
        pending = [ref for ref, (kind, _) in self._refs.items() if kind == "done"]
        if pending:
            self.ray.wait(pending, num_returns=len(pending), timeout=SHUTDOWN_WAIT_S)
        for actor in self._actors:
            self.ray.kill(actor)
        self._actors, self._refs = [], {}
        if self.started_here:
            self.ray.shutdown()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def ray_pool(address: str, workers: Optional[int], device: str,
             say: Callable[[str], None]) -> Callable[[WorkerSettings, int], RayPool]:
    """The batch's pool factory for --ray: checks that Ray is installed now (a one-line
    error before any work), connects when the pool is made (after resume has decided
    there is work to do)."""
    ray = import_ray()

    def make(settings: WorkerSettings, videos: int) -> RayPool:
        started = _connect(ray, address, say)
        try:
            return RayPool(ray, settings, workers, device, started, videos)
        except BaseException:
            if started:
                ray.shutdown()
            raise
    return make

