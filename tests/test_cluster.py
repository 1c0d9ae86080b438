"""The batch on dask.distributed, fast: an in-process cluster (2 worker threads) into memory://, the
store's atomic uploads (memory:// and a real S3 API on moto), the shared speech store, the flags.

The cluster with worker processes, a real scheduler, S3 end to end and Ctrl-C are in
test_cluster_e2e.py (marker `long`).
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from attune.cli import cli
from attune.delivery.batch import BatchOptions, run_batch
from attune.delivery.cluster import parse_cluster
from attune.delivery.process_pool import WorkerPool
from attune.delivery.store import FsspecStore, StoreSpec
from attune.errors import AttuneError, SettingsError
from attune.speech.cache import SharedStore, SpeechCache, use_shared_store
from attune.speech.engines.base import VoiceSettings
from helpers.batch import access_of, fake_fingerprint, fake_render, make_project
from helpers.cluster import moto_s3
from helpers.fakes import FakeSynthesizer

#: The attune[s3] and attune[dask] extras: without them these tests skip, saying which to install.
fsspec = pytest.importorskip("fsspec", reason="the attune[s3] extra is not installed: pip install 'attune[s3]'")
pytest.importorskip("distributed", reason="the attune[dask] extra is not installed: pip install 'attune[dask]'")

TOKEN = re.compile(r"[A-Za-z0-9_-]{22}")


@pytest.fixture(scope="module")
def dask_client():
    from distributed import Client  # imported here: collecting the suite stays quick

    from attune.delivery.cluster import NO_DASHBOARD

    with Client(processes=False, n_workers=2, threads_per_worker=1, dashboard_address=None, scheduler_kwargs=NO_DASHBOARD) as client:
        yield client


@pytest.fixture
def memory():
    fs = fsspec.filesystem("memory")
    yield fs
    fs.store.clear()
    fs.pseudo_dirs.clear()
    fs.pseudo_dirs.append("")


def objects(fs, root: str) -> dict[str, bytes]:
    return {name.removeprefix(f"/{root}/"): fs.cat_file(name) for name in fs.find(f"/{root}")}


def shape(names) -> list[str]:
    """Names with tokens and client ids replaced, to compare layouts."""
    out = []
    for name in names:
        name = re.sub(r"^public/[A-Za-z0-9_-]{22}/", "public/TOKEN/", name)
        out.append(re.sub(r"^tracks/[0-9a-f]{16}/", "tracks/ID/", name))
    return sorted(out)


def test_cluster_batch_into_memory_matches_the_local_layout(tmp_path, dask_client, memory):
    roster = make_project(tmp_path)
    seen = []
    report = run_batch(roster, "memory://bucket/out", BatchOptions(cluster=dask_client, base_url="https://cdn.example.org/p/"), render_fn=fake_render, fingerprint_fn=fake_fingerprint, progress=seen.append)  # fmt: skip
    assert [(o.client, o.track, o.ok) for o in report.outcomes] == [
        ("Ana", "01-loving-kindness", True), ("Ana", "02-evening-scan", True), ("../../x", "01-loving-kindness", True),
        ("<script>alert(1)</script>", "01-missing", False), ("<script>alert(1)</script>", "02-loving-kindness", True),
    ]  # fmt: skip
    assert report.out_dir == "memory://bucket/out" and len(report.published) == 3
    stored = objects(memory, "bucket/out")
    manifest = json.loads(stored["manifest.json"])
    # Every file in the manifest is an object with its size and sha256; no temporary object is left.
    for track in manifest["tracks"]:
        for info in track["files"].values():
            data = stored[info["path"]]
            assert len(data) == info["bytes"] and hashlib.sha256(data).hexdigest() == info["sha256"]
    assert not [name for name in stored if ".part" in name or "/." in name]
    # Progress said which workers were busy with which track.
    assert any(p.event == "working" and any(" / " in w for w in p.workers) for p in seen)
    assert seen[-1].done == seen[-1].total == 5

    # The local layout (public/, tokens, access.json, links.csv), except that each track's files are
    # kept once, as the objects of the public folder (a folder keeps them in tracks/ and links them).
    local = tmp_path / "local"
    run_batch(roster, local, BatchOptions(jobs=1, base_url="https://cdn.example.org/p/"), render_fn=fake_render, fingerprint_fn=fake_fingerprint)
    local_names = shape(p.relative_to(local).as_posix() for p in local.rglob("*") if p.is_file())
    assert shape(stored) == [name for name in local_names if not name.startswith("tracks/")]
    access = {c["name"]: c for c in json.loads(stored["access.json"])["clients"]}
    ana = f"public/{access['Ana']['token']}/"
    tracks = {t["track"]: t for t in manifest["tracks"] if t["client"] == "Ana"}
    assert tracks["01-loving-kindness"]["files"]["mp3"]["path"] == ana + "01-loving-kindness.mp3"
    assert tracks["01-loving-kindness"]["kept"] == f"tracks/{access['Ana']['id']}/01-loving-kindness.mp3"
    assert TOKEN.fullmatch(access["Ana"]["token"])
    assert f"https://cdn.example.org/p/{access['Ana']['token']}/feed.xml" in stored["links.csv"].decode()
    assert b"Dr. Rivera &amp; &lt;Partners&gt;" in stored[ana + "index.html"]

    # A re-run renders only what is missing at DEST.
    memory.rm(f"/bucket/out/{ana}02-evening-scan.mp3")
    again = run_batch(roster, "memory://bucket/out", BatchOptions(cluster=dask_client, base_url="https://cdn.example.org/p/"), render_fn=fake_render, fingerprint_fn=fake_fingerprint)
    assert [o.track for o in again.rendered] == ["02-evening-scan"] and len(again.skipped) == 3
    after = objects(memory, "bucket/out")
    assert after[ana + "01-loving-kindness.mp3"] == stored[ana + "01-loving-kindness.mp3"] and ana + "02-evening-scan.mp3" in after
    assert sorted(after) == sorted(stored)


def test_cluster_batch_into_a_local_folder(tmp_path, dask_client):
    roster = make_project(tmp_path)
    out = tmp_path / "out"
    report = run_batch(roster, out, BatchOptions(cluster=dask_client), render_fn=fake_render, fingerprint_fn=fake_fingerprint)
    assert len(report.rendered) == 4 and report.out_dir == out.resolve()
    assert sorted(p.name for p in out.iterdir()) == ["access.json", "links.csv", "manifest.json", "public", "tracks"]
    assert not [p for p in out.rglob(".*")]
    manifest = json.loads((out / "manifest.json").read_text())
    for track in manifest["tracks"]:
        for info in track["files"].values():
            assert hashlib.sha256((out / info["path"]).read_bytes()).hexdigest() == info["sha256"]
    assert (out / "public" / access_of(out)["Ana"]["token"] / "practice.zip").is_file()
    # Nothing left to render or publish: the re-run needs no cluster (this address has no scheduler).
    again = run_batch(roster, out, BatchOptions(cluster="tcp://127.0.0.1:9"), render_fn=fake_render, fingerprint_fn=fake_fingerprint)
    assert (len(again.rendered), len(again.skipped), len(again.published)) == (0, 4, 3)


def test_a_track_reads_the_bytes_the_client_sent(tmp_path, dask_client, memory):
    """The task carries the script's bytes: the worker renders them even when the client's file is gone."""
    roster = make_project(tmp_path, "practitioner: P\ntitle: T\nclients:\n  - name: Ana\n    tracks:\n      - script: scripts/scan.txt\n")
    from attune.delivery.batch import track_request
    from attune.delivery.inputs import bundle as bundle_inputs
    from attune.delivery.roster import load_roster

    spec = load_roster(roster).clients[0].tracks[0]
    files = bundle_inputs(track_request(load_roster(roster), spec, Path("tracks/x/01-scan.mp3")))
    assert [Path(f.client_path).name for f in files] == ["scan.txt"] and files[0].data == (roster.parent / "scripts" / "scan.txt").read_bytes()
    assert files[0].sha256 == hashlib.sha256(files[0].data).hexdigest()


def test_object_storage_rules(tmp_path, dask_client):
    roster = make_project(tmp_path)
    with pytest.raises(SettingsError, match=r"-o memory://b/x is object storage, so the links need --base-url"):
        run_batch(roster, "memory://b/x", BatchOptions(cluster=dask_client))
    with pytest.raises(SettingsError, match=r"needs --cluster — add --cluster local:2"):
        run_batch(roster, "s3://b/x", BatchOptions(jobs=2))
    with pytest.raises(SettingsError, match=r"--jobs is for one machine's process pool"):
        run_batch(roster, tmp_path / "o", BatchOptions(jobs=2, cluster="local:2"))
    for bad in ("local", "local:0", "local:x", "http://h:1", "tcp://nohost"):
        with pytest.raises(SettingsError, match=r"is not a cluster — use --cluster local:2"):
            parse_cluster(bad)
    assert parse_cluster("local:3") == ("local", 3) and parse_cluster("tcp://10.0.0.5:8786") == ("remote", "tcp://10.0.0.5:8786")


def test_cli_flags(tmp_path):
    roster = make_project(tmp_path)
    result = CliRunner().invoke(cli, ["batch", str(roster), "-o", "s3://b/x", "--cluster", "local:2", "--storage-options", "{nope"])
    assert result.exit_code == 2 and "--storage-options is not JSON" in result.output
    result = CliRunner().invoke(cli, ["batch", str(roster), "-o", "s3://b/x", "--cluster", "local:2"])
    assert result.exit_code == 1 and result.output.startswith("Error: -o s3://b/x is object storage, so the links need --base-url")
    result = CliRunner().invoke(cli, ["batch", str(roster), "-o", str(tmp_path / "o"), "--cluster", "bogus"])
    assert result.exit_code == 1 and "Error: --cluster 'bogus' is not a cluster" in result.output
    assert "--cluster" in CliRunner().invoke(cli, ["batch", "--help"]).output


def test_put_files_is_whole_or_nothing_on_memory(memory, tmp_path):
    store = FsspecStore(StoreSpec("memory://bucket/d"))
    a, b = tmp_path / "a.mp3", tmp_path / "b.vtt"
    a.write_bytes(b"a" * 1000)
    b.write_bytes(b"b" * 1000)
    real_put = memory.put_file
    calls = []

    def cut_off(lpath, rpath, **kwargs):
        calls.append(rpath)
        if len(calls) == 2:  # the second upload dies half way
            memory.pipe_file(rpath, Path(lpath).read_bytes()[:500])
            raise ConnectionError("connection reset mid-upload")
        return real_put(lpath, rpath, **kwargs)

    memory.put_file = cut_off
    try:
        with pytest.raises(ConnectionError):
            store.put_files([(a, "t/a.mp3"), (b, "t/b.vtt")], "run1")
    finally:
        del memory.put_file
    assert all(re.fullmatch(r"/bucket/d/t/\.[ab]\.(mp3|vtt)\.run1\.[0-9a-f]{32}\.part", c) for c in calls)
    assert memory.find("/bucket/d") == []  # neither file, nor a temporary
    store.put_files([(a, "t/a.mp3"), (b, "t/b.vtt")], "run2")
    assert objects(memory, "bucket/d") == {"t/a.mp3": b"a" * 1000, "t/b.vtt": b"b" * 1000}


def test_put_files_on_s3_leaves_no_partial_object(tmp_path, monkeypatch):
    """On a real S3 API: `with fs.open(key, "wb")` commits a partial object when the block raises
    (s3fs #154) — which is why outputs never use it; a failed `put_files` leaves nothing."""
    with moto_s3(monkeypatch):
        fs = fsspec.filesystem("s3", skip_instance_cache=True)
        fs.mkdir("bucket")
        with pytest.raises(RuntimeError), fs.open("bucket/hazard.bin", "wb") as handle:
            handle.write(b"x" * 1000)
            raise RuntimeError("the render failed while writing")
        fs.invalidate_cache()
        assert fs.info("bucket/hazard.bin")["size"] == 1000  # the hazard is real
        fs.rm("bucket/hazard.bin")

        store = FsspecStore(StoreSpec("s3://bucket/out"))
        big = tmp_path / "track.mp3"
        big.write_bytes(bytes(range(256)) * 4096)
        real_put = store.fs.put_file

        def cut_off(lpath, rpath, **kwargs):
            if rpath.endswith(".part") and ".vtt." in rpath:
                with fs.open(rpath, "wb") as handle:  # half the bytes reach S3, then the connection drops
                    handle.write(Path(lpath).read_bytes()[:100])
                raise ConnectionError("connection reset mid-upload")
            return real_put(lpath, rpath, **kwargs)

        monkeypatch.setattr(store.fs, "put_file", cut_off)
        captions = tmp_path / "track.vtt"
        captions.write_text("WEBVTT\n")
        with pytest.raises(ConnectionError):
            store.put_files([(big, "tracks/c/01.mp3"), (captions, "tracks/c/01.vtt")], "run1")
        fs.invalidate_cache()
        assert fs.find("bucket") == []


def test_shared_speech_store_reads_through_and_writes_once(tmp_path, memory):
    store = SharedStore("memory://speech-store/speech")
    voice = VoiceSettings("gmw/en-us", 140.0, 50)
    first, second = tmp_path / "node-a", tmp_path / "node-b"
    use_shared_store(first, store)
    use_shared_store(second, store)
    try:
        synth_a = FakeSynthesizer()
        cache_a = SpeechCache(synth_a, first)
        keys = cache_a.ensure(["Breathe in.", "Breathe out."], voice)
        assert (cache_a.synthesized, cache_a.shared_written, cache_a.fetched) == (2, 2, 0)
        names = sorted(memory.find("/speech-store/speech"))
        assert names == sorted(f"/speech-store/speech/{cache_a.engine_key}/{k[:2]}/{k}.npy" for k in keys.values())
        # Another node: every clip comes from the shared store, none is synthesised.
        synth_b = FakeSynthesizer()
        cache_b = SpeechCache(synth_b, second)
        assert cache_b.ensure(["Breathe in.", "Breathe out."], voice) == keys
        assert (cache_b.synthesized, cache_b.fetched, synth_b.calls) == (0, 2, [])
        assert (cache_b.load(keys["Breathe in."]) == cache_a.load(keys["Breathe in."])).all()
        assert not list(second.rglob("*.part"))
        # Written once: a clip already in the store is not uploaded again.
        use_shared_store(tmp_path / "node-c", store)
        cache_c = SpeechCache(FakeSynthesizer(), tmp_path / "node-c")
        cache_c.ensure(["Breathe in.", "Rest."], voice)
        assert (cache_c.fetched, cache_c.synthesized, cache_c.shared_written) == (1, 1, 1)
    finally:
        for folder in (first, second, tmp_path / "node-c"):
            use_shared_store(folder, None)


def _pool_in_daemon(queue) -> None:
    try:
        WorkerPool(2)
        queue.put("started")
    except AttuneError as exc:
        queue.put(str(exc))


def test_no_process_pool_inside_a_daemonic_worker():
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    process = context.Process(target=_pool_in_daemon, args=(queue,), daemon=True)
    process.start()
    message = queue.get(timeout=30)
    process.join(30)
    assert message.startswith("the local process pool cannot start inside a daemonic process such as a Dask worker")


def test_inputs_travel_as_bytes_and_land_where_the_script_expects_them(tmp_path):
    """A roster's own sound file and cover, and a script's relative sound file, reach the worker as bytes:
    the moved request reads exactly them, from the scratch folder, with the client's copies gone."""
    import shutil

    from attune.delivery.inputs import bundle, materialise
    from attune.library import SOUNDS_DIR, bundled_sounds
    from attune.request import RenderRequest, input_files
    from attune.settings import Background, TrackSettings

    project = tmp_path / "project"
    (project / "sounds").mkdir(parents=True)
    sound = SOUNDS_DIR / bundled_sounds()[0]
    shutil.copyfile(sound, project / "sounds" / f"mine{sound.suffix}")
    (project / "script.yaml").write_text(f"title: T\nbackground: sounds/mine{sound.suffix}\nsections:\n  - name: A\n    text: Hello.\n")
    (project / "cover.png").write_bytes(b"\x89PNG fake")
    request = RenderRequest(project / "script.yaml", settings=TrackSettings(background=Background(f"sounds/mine{sound.suffix}", base_dir=project)),
                            cover=project / "cover.png")  # fmt: skip
    files = bundle(request)
    assert sorted(Path(f.client_path).name for f in files) == sorted(["script.yaml", f"mine{sound.suffix}", "cover.png"])
    digests = {f.sha256 for f in files}
    shutil.rmtree(project)  # the worker is another machine
    moved = materialise(request, files, tmp_path / "scratch")
    read = input_files(moved)
    assert len(read) == 4 and all(str(p).startswith(str(tmp_path / "scratch")) for p in read)  # the script's sound and the roster's: one file
    assert {hashlib.sha256(Path(p).read_bytes()).hexdigest() for p in read} == digests


def storage_once(roster: Path, dest: str, fs, dask_client, *, access_too: bool) -> None:
    """A batch into `dest` (on the file system `fs`): 4 tracks are 4 MP3 objects and 4 captions, in
    the public folders, which the manifest points at. With `access_too`: rotate copies them once to
    the new token's folder and removes the old one; revoke moves them to tracks/<id>/; rotating
    back publishes them again; a re-run after all that renders nothing."""
    options = {"skip_instance_cache": True} if dest.startswith("s3://") else {}
    root = dest.split("://", 1)[1]

    def listing() -> dict[str, bytes]:
        fs.invalidate_cache()
        return {name.lstrip("/").removeprefix(f"{root}/"): fs.cat_file(name) for name in fs.find(root)}

    def batch():
        return run_batch(roster, dest, BatchOptions(cluster=dask_client, base_url="https://cdn.example.org/p/", storage_options=options),
                         render_fn=fake_render, fingerprint_fn=fake_fingerprint)  # fmt: skip

    def check_manifest(stored: dict[str, bytes]) -> list[dict]:
        tracks = json.loads(stored["manifest.json"])["tracks"]
        for track in tracks:
            for info in track["files"].values():
                assert len(stored[info["path"]]) == info["bytes"] and hashlib.sha256(stored[info["path"]]).hexdigest() == info["sha256"]
        return tracks

    def access(stored):
        return {c["name"]: c for c in json.loads(stored["access.json"])["clients"]}

    report = batch()
    assert (len(report.rendered), len(report.published)) == (4, 3)
    stored = listing()
    mp3s = sorted(n for n in stored if n.endswith(".mp3"))
    # One object per file: tracks × formats (MP3, and the captions), then each published folder's
    # page, feed, zip, chapters and cover, and the batch's own five files.
    assert len(mp3s) == 4 and len([n for n in stored if n.endswith(".vtt")]) == 4
    assert all(n.startswith("public/") for n in mp3s) and not [n for n in stored if n.startswith("tracks/")]
    others = {re.sub(r"^public/[A-Za-z0-9_-]{22}/", "", n) for n in stored if not n.endswith((".mp3", ".vtt"))}
    assert {re.sub(r"^\d\d-.*\.chapters\.json$", "NN.chapters.json", n) for n in others} <= {
        "manifest.json", "access.json", "links.csv", "public/robots.txt", "public/index.html",
        "index.html", "feed.xml", "practice.zip", "cover.png", "NN.chapters.json"}  # fmt: skip
    tracks = check_manifest(stored)
    assert sorted(info["path"] for t in tracks for k, info in t["files"].items() if k == "mp3") == mp3s
    ana = access(stored)["Ana"]
    assert stored[f"public/{ana['token']}/feed.xml"].count(b"<enclosure") == 2
    if not access_too:
        return

    cli_options = ["--storage-options", json.dumps(options)]
    result = CliRunner().invoke(cli, ["access", "rotate", dest, "Ana", *cli_options])
    assert result.exit_code == 0, result.output
    rotated = listing()
    new = access(rotated)["Ana"]["token"]
    assert new != ana["token"] and not [n for n in rotated if n.startswith(f"public/{ana['token']}/")]
    assert sorted(n for n in rotated if n.endswith(".mp3")) == sorted(n.replace(ana["token"], new) for n in mp3s)
    assert f"https://cdn.example.org/p/{new}/feed.xml" in result.output
    assert f"https://cdn.example.org/p/{new}/01-loving-kindness.mp3".encode() in rotated[f"public/{new}/feed.xml"]
    check_manifest(rotated)

    bo = access(rotated)["../../x"]
    result = CliRunner().invoke(cli, ["access", "revoke", dest, "../../x", *cli_options])
    assert result.exit_code == 0, result.output
    revoked = listing()
    assert len([n for n in revoked if n.endswith(".mp3")]) == 4 and not [n for n in revoked if n.startswith(f"public/{bo['token']}/")]
    assert f"tracks/{bo['id']}/01-loving-kindness.mp3" in revoked
    check_manifest(revoked)
    result = CliRunner().invoke(cli, ["access", "list", dest, *cli_options])
    assert "../../x\trevoked\t-\t-" in result.output

    result = CliRunner().invoke(cli, ["access", "rotate", dest, "../../x", *cli_options])
    assert result.exit_code == 0, result.output
    restored = listing()
    assert len([n for n in restored if n.endswith(".mp3")]) == 4 and not [n for n in restored if n.startswith("tracks/")]
    check_manifest(restored)
    again = batch()
    assert (len(again.rendered), len(again.skipped)) == (0, 4)
    assert sorted(listing()) == sorted(restored)


def test_object_storage_keeps_each_file_once_on_s3(tmp_path, dask_client, monkeypatch):
    """Listed on a real S3 API (moto's server): one object per file."""
    with moto_s3(monkeypatch):
        fs = fsspec.filesystem("s3", skip_instance_cache=True)
        fs.mkdir("once")
        storage_once(make_project(tmp_path), "s3://once/deliver", fs, dask_client, access_too=False)


def test_access_rotate_and_revoke_move_the_one_object(tmp_path, dask_client, memory):
    storage_once(make_project(tmp_path), "memory://bucket/deliver", memory, dask_client, access_too=True)


@pytest.mark.long
def test_access_rotate_and_revoke_on_s3(tmp_path, dask_client, monkeypatch):
    with moto_s3(monkeypatch):
        fs = fsspec.filesystem("s3", skip_instance_cache=True)
        fs.mkdir("rotate")
        storage_once(make_project(tmp_path), "s3://rotate/deliver", fs, dask_client, access_too=True)


def test_a_worker_that_joins_later_is_checked_before_it_takes_a_task(monkeypatch):
    """The batch's WorkerCheck runs on every worker that joins after it is registered: one that
    matches gets the batch's resource, one that differs (another Attune) gets none and says why;
    tasks asking for the resource go to checked workers only."""
    from distributed import Client, LocalCluster, get_worker

    import attune.version
    from attune.delivery.cluster import NO_DASHBOARD, check_workers
    from attune.delivery.worker_check import REFUSED_TOPIC, checked_threads

    asks = [("pyttsx3", None, None, None)]
    with LocalCluster(processes=False, n_workers=1, threads_per_worker=1, dashboard_address=None, scheduler_kwargs=NO_DASHBOARD) as cluster, Client(cluster) as client:
        resource, theirs = check_workers(client, asks, StoreSpec("memory://b/x"), None)
        first = next(iter(theirs))
        cluster.scale(2)
        client.wait_for_workers(2, timeout=30)
        late = next(a for a in client.scheduler_info()["workers"] if a != first)
        assert client.run_on_scheduler(checked_threads, resource) == 2  # the late joiner was checked and let in

        monkeypatch.setattr(attune.version, "__version__", "0.0.1-other")  # the next worker to join runs another Attune
        cluster.scale(3)
        client.wait_for_workers(3, timeout=30)
        deadline = __import__("time").monotonic() + 30
        while not client.get_events(REFUSED_TOPIC) and __import__("time").monotonic() < deadline:
            __import__("time").sleep(0.05)
        [(_, event)] = client.get_events(REFUSED_TOPIC)
        assert event["resource"] == resource and event["worker"] not in (first, late)
        assert event["problem"][0].startswith("differs from this machine: attune 0.0.1-other (here ")
        assert client.run_on_scheduler(checked_threads, resource) == 2
        ran_on = {client.submit(lambda i: get_worker().address, i, resources={resource: 1}, pure=False).result() for i in range(12)}
        assert ran_on <= {first, late}
