"""The snapshot store: layout, round trips, determinism, atomicity, file names and errors."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path, PurePosixPath
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stagesync import snapshot as store
from stagesync.errors import SnapshotError
from stagesync.keys import join_path, split_path
from stagesync.model import KindSnapshot, Record, Snapshot
from stagesync.snapshot import (
    MANIFEST,
    file_names,
    read_snapshot,
    record_path,
    write_snapshot,
)

# --- helpers ---------------------------------------------------------------------------------


def make(
    kinds: dict[str, dict[str, Record]],
    *,
    pulled_at: str = "2024-05-01T12:00:00Z",
    store_hash: str = "abc123",
) -> Snapshot:
    return Snapshot(
        kinds={kind: KindSnapshot(records) for kind, records in kinds.items()},
        environment="staging",
        store_hash=store_hash,
        pulled_at=pulled_at,
    )


STORE: dict[str, dict[str, Record]] = {
    "brands": {
        "acme": {"name": "acme", "meta_keywords": ["tools"]},
        "Zeta Corp": {"name": "Zeta Corp", "meta_keywords": []},
    },
    "products": {
        "SKU-123": {
            "name": "Hammer",
            "price": 9.5,
            "brand": "acme",
            "variants": [{"sku": "SKU-123-L", "option_values": [["Size", "L"]]}],
        },
        "sku-7": {"name": "Crème brûlée torch ✓", "price": 20, "brand": None},
    },
    "categories": {
        "Shoes": {"name": "Shoes"},
        "Shoes/Running": {"name": "Running"},
        "Bags\\/Cases/Small": {"name": "Small"},
    },
}


def files_of(directory: Path) -> dict[str, bytes]:
    return {
        path.relative_to(directory).as_posix(): path.read_bytes()
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }


def fingerprint(directory: Path) -> dict[str, str]:
    return {name: hashlib.sha256(data).hexdigest() for name, data in files_of(directory).items()}


def siblings(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.parent.iterdir())


WINDOWS_RESERVED = {"con", "prn", "aux", "nul"} | {
    f"{d}{n}" for d in ("com", "lpt") for n in "0123456789\u00b9\u00b2\u00b3"
}


def assert_portable_name(part: str) -> None:
    assert part not in ("", ".", "..")
    assert not part.startswith(".")
    assert not set(part) & set('<>:"/\\|?*'), part
    assert all(ord(ch) >= 32 for ch in part), part
    assert part[-1] not in ". ", part
    assert part.split(".")[0].rstrip(" ").casefold() not in WINDOWS_RESERVED, part
    assert len(part.encode("utf-8")) <= 255
    assert len(part.encode("utf-16-le", "surrogatepass")) // 2 <= 255


def assert_safe(kind: str, path: PurePosixPath, root: Path) -> None:
    assert not path.is_absolute()
    assert path.parts[0] == kind
    assert path.name.endswith(".json")
    for part in path.parts:
        assert_portable_name(part)
    resolved = (root / path).resolve()
    assert resolved.is_relative_to((root / kind).resolve())


# --- round trip, layout, determinism ---------------------------------------------------------


def test_round_trip(tmp_path: Path) -> None:
    original = make(STORE)
    write_snapshot(tmp_path / "staging", original)
    read = read_snapshot(tmp_path / "staging")
    assert read == original
    assert read.digest == original.digest


def test_layout_and_file_format(tmp_path: Path, snapshot: Any) -> None:
    write_snapshot(tmp_path / "staging", make(STORE))
    files = files_of(tmp_path / "staging")
    assert {name: data.decode("utf-8") for name, data in files.items()} == snapshot


def test_record_file_is_sorted_indented_utf8_with_newline(tmp_path: Path) -> None:
    write_snapshot(tmp_path / "s", make({"products": {"sku-7": STORE["products"]["sku-7"]}}))
    data = (tmp_path / "s" / "products" / "sku-7.json").read_bytes()
    assert data == (
        b'{\n  "key": "sku-7",\n  "kind": "products",\n  "record": {\n'
        b'    "brand": null,\n    "name": "Cr\xc3\xa8me br\xc3\xbbl\xc3\xa9e torch \xe2\x9c\x93",\n'
        b'    "price": 20\n  }\n}\n'
    )


def test_manifest_fields(tmp_path: Path) -> None:
    original = make(STORE)
    write_snapshot(tmp_path / "s", original)
    manifest = orjson.loads((tmp_path / "s" / MANIFEST).read_bytes())
    assert manifest == {
        "format": "stagesync.snapshot",
        "format_version": 1,
        "environment": "staging",
        "store_hash": "abc123",
        "pulled_at": "2024-05-01T12:00:00Z",
        "kinds": {
            kind: {"count": len(records), "digest": original.kinds[kind].digest}
            for kind, records in STORE.items()
        },
    }


def test_writing_twice_gives_identical_files_except_pulled_at(tmp_path: Path) -> None:
    write_snapshot(tmp_path / "s", make(STORE, pulled_at="2024-05-01T12:00:00Z"))
    first = files_of(tmp_path / "s")
    # Same records, built in another insertion order: the bytes must not depend on it.
    reordered = {kind: dict(reversed(records.items())) for kind, records in STORE.items()}
    write_snapshot(tmp_path / "s", make(reordered, pulled_at="2024-05-02T08:30:00Z"))
    second = files_of(tmp_path / "s")
    assert first.keys() == second.keys()
    changed = [name for name in first if first[name] != second[name]]
    assert changed == [MANIFEST]
    before, after = orjson.loads(first[MANIFEST]), orjson.loads(second[MANIFEST])
    assert before.pop("pulled_at") != after.pop("pulled_at")
    assert before == after
    assert siblings(tmp_path / "s") == ["s"]


def test_empty_kind_has_no_folder_and_reads_back(tmp_path: Path) -> None:
    write_snapshot(tmp_path / "s", make({"brands": {}}))
    assert not (tmp_path / "s" / "brands").exists()
    assert read_snapshot(tmp_path / "s").kinds == {"brands": KindSnapshot({})}


def test_read_selected_kinds_only(tmp_path: Path) -> None:
    write_snapshot(tmp_path / "s", make(STORE))
    # A broken products folder does not matter when only brands are read.
    (tmp_path / "s" / "products" / "junk.json").write_text("{", encoding="utf-8")
    read = read_snapshot(tmp_path / "s", kinds=["brands", "customers"])
    assert set(read.kinds) == {"brands"}
    assert read.records("brands") == STORE["brands"]


def test_read_ignores_hidden_and_non_json_files(tmp_path: Path) -> None:
    write_snapshot(tmp_path / "s", make(STORE))
    (tmp_path / "s" / "brands" / ".DS_Store").write_bytes(b"\0")
    (tmp_path / "s" / "brands" / "notes.txt").write_text("hello", encoding="utf-8")
    (tmp_path / "s" / "README.md").write_text("staging", encoding="utf-8")
    assert read_snapshot(tmp_path / "s") == make(STORE)


@pytest.mark.parametrize("from_disk", [False, True])
def test_many_records_round_trip(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, from_disk: bool
) -> None:
    if from_disk:  # every read looks slow: the thread pool reads the rest
        monkeypatch.setattr(store, "_CACHED_READ_SECONDS", 0.0)
    records = {f"SKU-{i}": {"name": f"Product {i}", "price": i} for i in range(1200)}
    write_snapshot(tmp_path / "s", make({"products": records}))
    assert read_snapshot(tmp_path / "s").records("products") == records


# --- atomicity --------------------------------------------------------------------------------


def test_failed_write_leaves_previous_snapshot_intact(tmp_path: Path) -> None:
    target = tmp_path / "staging"
    write_snapshot(target, make(STORE))
    before = fingerprint(target)
    broken = {**STORE, "products": {**STORE["products"], "SKU-9": {"tags": {"a", "b"}}}}
    with pytest.raises(SnapshotError) as caught:
        write_snapshot(target, make(broken, pulled_at="later"))
    assert "SKU-9" in caught.value.message
    assert caught.value.path == str(target / record_path("products", "SKU-9"))
    assert fingerprint(target) == before
    assert siblings(target) == ["staging"]


def test_failed_first_write_leaves_nothing(tmp_path: Path) -> None:
    target = tmp_path / "snapshots" / "staging"
    with pytest.raises(SnapshotError):
        write_snapshot(target, make({"brands": {"acme": {"id": 2**70}}}))
    assert not target.exists()
    assert siblings(target) == []


def test_failed_swap_puts_the_previous_snapshot_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "staging"
    write_snapshot(target, make(STORE))
    before = fingerprint(target)
    real_rename = os.rename
    calls: list[str] = []

    def flaky_rename(source: Any, destination: Any) -> None:
        calls.append(str(destination))
        if len(calls) == 2:  # the new folder into place
            raise PermissionError(13, "Permission denied", str(destination))
        real_rename(source, destination)

    monkeypatch.setattr(store.os, "rename", flaky_rename)
    with pytest.raises(SnapshotError) as caught:
        write_snapshot(target, make({"brands": {}}))
    assert "Permission denied" in caught.value.message
    assert "previous snapshot is unchanged" in caught.value.message
    monkeypatch.undo()
    assert fingerprint(target) == before
    assert siblings(target) == ["staging"]


def test_refuses_to_replace_a_folder_that_is_not_a_snapshot(tmp_path: Path) -> None:
    target = tmp_path / "mine"
    target.mkdir()
    (target / "thesis.txt").write_text("precious", encoding="utf-8")
    with pytest.raises(SnapshotError) as caught:
        write_snapshot(target, make(STORE))
    assert str(target) in caught.value.message
    assert "not a stagesync snapshot" in caught.value.message
    assert caught.value.path == str(target)
    assert (target / "thesis.txt").read_text(encoding="utf-8") == "precious"


def test_a_full_pull_repairs_a_damaged_snapshot(tmp_path: Path) -> None:
    target = tmp_path / "s"
    write_snapshot(target, make(STORE))
    (target / MANIFEST).write_text("{", encoding="utf-8")
    write_snapshot(target, make(STORE))
    assert read_snapshot(target) == make(STORE)
    (target / MANIFEST).unlink()
    write_snapshot(target, make(STORE))
    assert read_snapshot(target) == make(STORE)


def test_a_partial_pull_needs_a_readable_manifest(tmp_path: Path) -> None:
    target = tmp_path / "s"
    write_snapshot(target, make(STORE))
    (target / MANIFEST).write_text("{", encoding="utf-8")
    before = fingerprint(target)
    with pytest.raises(SnapshotError) as caught:
        write_snapshot(target, make(STORE), kinds=["brands"])
    assert caught.value.path == str(target / MANIFEST)
    assert "pull all kinds instead" in caught.value.message
    assert fingerprint(target) == before


def test_writes_into_an_existing_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "s").mkdir()
    write_snapshot(tmp_path / "s", make(STORE))
    assert read_snapshot(tmp_path / "s") == make(STORE)


# --- partial writes ---------------------------------------------------------------------------


def test_partial_write_carries_other_kinds_over(tmp_path: Path) -> None:
    target = tmp_path / "s"
    write_snapshot(target, make(STORE))
    before = files_of(target)
    new_brands = {"acme": {"name": "acme", "meta_keywords": ["tools", "new"]}}
    write_snapshot(
        target,
        make({"brands": new_brands, "products": {}}, pulled_at="2024-06-01T00:00:00Z"),
        kinds=["brands"],
    )
    after = files_of(target)
    for name in before:
        if name.startswith(("products/", "categories/")):
            assert after[name] == before[name]
    assert sorted(n for n in after if n.startswith("brands/")) == ["brands/acme.json"]
    read = read_snapshot(target)
    assert read.records("brands") == new_brands
    assert read.records("products") == STORE["products"]
    assert read.records("categories") == STORE["categories"]
    assert read.pulled_at == "2024-06-01T00:00:00Z"
    old_manifest, new_manifest = orjson.loads(before[MANIFEST]), orjson.loads(after[MANIFEST])
    assert new_manifest["kinds"]["products"] == old_manifest["kinds"]["products"]
    assert siblings(target) == ["s"]


def test_partial_write_into_a_new_folder_writes_only_those_kinds(tmp_path: Path) -> None:
    write_snapshot(tmp_path / "s", make(STORE), kinds=["brands"])
    assert set(read_snapshot(tmp_path / "s").kinds) == {"brands"}


def test_partial_write_refuses_to_mix_stores(tmp_path: Path) -> None:
    write_snapshot(tmp_path / "s", make(STORE))
    with pytest.raises(SnapshotError) as caught:
        write_snapshot(tmp_path / "s", make(STORE, store_hash="zzz999"), kinds=["brands"])
    assert "abc123" in caught.value.message and "zzz999" in caught.value.message
    assert caught.value.path == str(tmp_path / "s" / MANIFEST)


def test_partial_write_of_a_kind_missing_from_the_snapshot_is_a_bug(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="customers"):
        write_snapshot(tmp_path / "s", make(STORE), kinds=["customers"])


# --- categories and path keys -----------------------------------------------------------------


def test_categories_nest_one_folder_per_segment(tmp_path: Path) -> None:
    assert record_path("categories", "shoes/running") == PurePosixPath(
        "categories/shoes/running.json"
    )
    assert record_path("categories", "shoes") == PurePosixPath("categories/shoes.json")
    running = record_path("categories", "Shoes/Running")
    assert running.parent == record_path("categories", "Shoes").with_suffix("")
    small = record_path("categories", "Bags\\/Cases/Small")
    assert len(small.parts) == 3
    assert small.parts[1].startswith("Bags__Cases~")
    assert small.parts[2].startswith("Small~")
    write_snapshot(tmp_path / "s", make(STORE))
    assert (tmp_path / "s" / running).is_file()
    assert (tmp_path / "s" / small).is_file()
    assert read_snapshot(tmp_path / "s").records("categories") == STORE["categories"]


def test_escaped_slash_is_not_a_separator() -> None:
    assert split_path("Shoes/Running") == ["Shoes", "Running"]
    assert split_path("Bags\\/Cases/Small") == ["Bags/Cases", "Small"]
    assert split_path("a\\\\/b") == ["a\\", "b"]
    assert join_path(["Bags/Cases", "Small"]) == "Bags\\/Cases/Small"
    assert join_path(["a\\", "b"]) == "a\\\\/b"
    assert split_path("") == [""]
    with pytest.raises(ValueError):
        join_path([])
    # Only the escaped form differs: these are distinct categories with distinct files.
    assert record_path("categories", "a\\/b") != record_path("categories", "a/b")


@given(st.lists(st.text(), min_size=1, max_size=5))
def test_join_then_split_round_trips(names: list[str]) -> None:
    assert split_path(join_path(names)) == names
    assert join_path(split_path(join_path(names))) == join_path(names)


# --- file names -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("acme", "acme.json"),
        ("sku-123", "sku-123.json"),
        ("v1.2_b", "v1.2_b.json"),
        ("SKU-123", "SKU-123~68d092b3.json"),
        ("../etc/passwd", "_._etc_passwd~7fef78f5.json"),
        ("a/b", "a_b~c14cddc0.json"),
        ("C:foo", "C_foo~3bd2226d.json"),
        ("CON", "CON~a3dbc4b6.json"),
        ("con", "con~1143da2b.json"),
        ("nul.txt", "nul_.txt~7f3cbdd5.json"),
        ("com1.tar.gz", "com1_.tar.gz~78fee32f.json"),
        ("Café Noir", "Café_Noir~729b59a0.json"),
        ("", "_~e3b0c442.json"),
        ("..", "_.~5ec1f7e7.json"),
        ("/abs/path", "_abs_path~6d80187b.json"),
        ("a\0b", "a_b~59b271ae.json"),
        (".hidden", "_hidden~16924190.json"),
        ("-rf", "_rf~686c39ac.json"),
        ("trailing.", "trailing.~44c12a4e.json"),
        ("x.json", "x.json~73f44f86.json"),
        ("a~b", "a_b~941528e5.json"),
    ],
)
def test_file_name_examples(key: str, expected: str, tmp_path: Path) -> None:
    path = record_path("products", key)
    assert path == PurePosixPath("products", expected)
    assert_safe("products", path, tmp_path)


def test_keys_differing_only_in_case_get_different_files(tmp_path: Path) -> None:
    keys = ["SKU-a", "sku-A", "sku-a", "Sku-A", "SKU-A"]
    names = file_names("products", keys)
    assert len({str(p).casefold() for p in names.values()}) == len(keys)
    records = {key: {"name": key} for key in keys}
    write_snapshot(tmp_path / "s", make({"products": records}))
    assert read_snapshot(tmp_path / "s").records("products") == records


def test_long_keys_are_cut_and_hashed(tmp_path: Path) -> None:
    a, b = "x" * 300, "x" * 299 + "y"
    pa, pb = record_path("products", a), record_path("products", b)
    assert pa != pb
    assert len(pa.name.encode()) <= store.MAX_NAME_BYTES + 1 + store.HASH_CHARS + 5
    wide = "漢" * 300
    assert len(record_path("products", wide).name.encode()) <= 255
    write_snapshot(tmp_path / "s", make({"products": {a: {}, b: {}, wide: {}}}))
    assert set(read_snapshot(tmp_path / "s").records("products")) == {a, b, wide}


def test_a_name_does_not_depend_on_other_keys() -> None:
    alone = file_names("products", ["SKU-1"])["SKU-1"]
    crowded = file_names("products", ["sku-1", "SKU-1", "Sku-1"])["SKU-1"]
    assert alone == crowded == record_path("products", "SKU-1")


def test_hash_collision_is_refused_not_overwritten(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store, "HASH_CHARS", 0)
    with pytest.raises(SnapshotError, match="both map to the file"):
        file_names("products", ["A:", "A?"])


def test_invalid_kind_names_are_refused() -> None:
    for kind in ["../x", "Products", "", "snapshot.json"]:
        with pytest.raises(ValueError):
            record_path(kind, "k")


keys_strategy = st.text(max_size=80) | st.text(alphabet="aA/\\.:~ -_", max_size=12)


@given(st.lists(keys_strategy, unique=True, max_size=30))
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_keys_get_safe_distinct_names(tmp_path: Path, keys: list[str]) -> None:
    # Add case variants: the classic collision on macOS and Windows.
    keys = list(dict.fromkeys(keys + [k.swapcase() for k in keys] + [k.upper() for k in keys]))
    for kind in ("products", "categories"):
        names = file_names(kind, keys)
        folded = [str(path).casefold() for path in names.values()]
        assert len(set(folded)) == len(keys)
        files = set(folded)
        for path in names.values():
            assert_safe(kind, path, tmp_path)
            # A record file never sits where another key's folder is.
            for parent in path.parents:
                assert str(parent).casefold() not in files


text_without_surrogates = st.text(st.characters(exclude_categories=["Cs"]), max_size=40)


@given(st.dictionaries(text_without_surrogates, st.just({"v": 1}), max_size=8))
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_any_keys_round_trip_on_disk(tmp_path: Path, records: dict[str, Record]) -> None:
    target = tmp_path / "s"
    original = make({"products": records, "categories": records})
    write_snapshot(target, original)
    assert read_snapshot(target) == original
    for path in target.rglob("*"):
        assert path.resolve().is_relative_to(target.resolve())


# --- errors -----------------------------------------------------------------------------------


@pytest.fixture
def written(tmp_path: Path) -> Path:
    target = tmp_path / "staging"
    write_snapshot(target, make(STORE))
    return target


def read_error(directory: Path) -> SnapshotError:
    with pytest.raises(SnapshotError) as caught:
        read_snapshot(directory)
    return caught.value


def test_error_missing_folder(tmp_path: Path) -> None:
    error = read_error(tmp_path / "nowhere")
    assert error.path == str(tmp_path / "nowhere")
    assert str(tmp_path / "nowhere") in error.message
    assert "does not exist; run `stagesync pull ENV` first" in error.message


def test_error_missing_folder_mentions_a_set_aside_snapshot(tmp_path: Path) -> None:
    (tmp_path / ".staging.old-1234abcd").mkdir()
    error = read_error(tmp_path / "staging")
    assert ".staging.old-1234abcd" in error.message


def test_error_no_manifest(written: Path) -> None:
    (written / MANIFEST).unlink()
    error = read_error(written)
    assert error.path == str(written / MANIFEST)
    assert f"{written} is not a stagesync snapshot" in error.message


def test_error_manifest_not_json(written: Path) -> None:
    (written / MANIFEST).write_text('{"format": ', encoding="utf-8")
    error = read_error(written)
    assert error.path == str(written / MANIFEST)
    assert "is not a stagesync snapshot" in error.message
    assert "not valid JSON (line 1, column" in error.message


@pytest.mark.parametrize(
    "change",
    [
        {"format": "something.else"},
        {"format_version": "1"},
        {"kinds": []},
        {"kinds": {"brands": {"count": 2}}},
        {"store_hash": 5},
    ],
)
def test_error_manifest_invalid(written: Path, change: dict[str, Any]) -> None:
    manifest = orjson.loads((written / MANIFEST).read_bytes())
    (written / MANIFEST).write_bytes(orjson.dumps({**manifest, **change}))
    error = read_error(written)
    assert error.path == str(written / MANIFEST)
    assert "is not a stagesync snapshot" in error.message
    assert str(written / MANIFEST) in error.message


def test_error_newer_format_version(written: Path) -> None:
    manifest = orjson.loads((written / MANIFEST).read_bytes())
    (written / MANIFEST).write_bytes(orjson.dumps({**manifest, "format_version": 2}))
    error = read_error(written)
    assert error.path == str(written / MANIFEST)
    assert "format_version 2" in error.message
    assert "upgrade stagesync" in error.message


def test_error_record_not_json(written: Path) -> None:
    path = written / record_path("brands", "acme")
    path.write_text('{\n  "key": "acme",\n  "kind": "brands"\n  "record": {}\n}\n')
    error = read_error(written)
    assert error.path == str(path)
    assert f"{path} is not valid JSON (line 4, column 3:" in error.message


@pytest.mark.parametrize(
    "body",
    [
        {"key": "acme", "record": {}},
        {"kind": "brands", "record": {}},
        {"kind": "brands", "key": "acme"},
        {"kind": "brands", "key": 5, "record": {}},
        {"kind": "brands", "key": "acme", "record": []},
        ["brands", "acme"],
    ],
)
def test_error_record_without_kind_key_record(written: Path, body: Any) -> None:
    path = written / record_path("brands", "acme")
    path.write_bytes(orjson.dumps(body))
    error = read_error(written)
    assert error.path == str(path)
    assert f"{path} is not a stagesync record file" in error.message


def test_error_record_in_wrong_kind_folder(written: Path) -> None:
    source = written / record_path("products", "sku-7")
    moved = written / "brands" / "sku-7.json"
    shutil.move(source, moved)
    error = read_error(written)
    assert error.path == str(moved)
    assert "holds a products record but lies in the brands folder" in error.message


def test_error_two_files_with_one_key(written: Path) -> None:
    source = written / record_path("brands", "acme")
    copy = written / "brands" / "acme-copy.json"
    shutil.copy(source, copy)
    error = read_error(written)
    assert error.path in (str(source), str(copy))
    assert str(source) in error.message and str(copy) in error.message
    assert "both hold brands 'acme'" in error.message


def test_error_count_mismatch(written: Path) -> None:
    (written / record_path("brands", "acme")).unlink()
    error = read_error(written)
    assert error.path == str(written / "brands")
    assert "lists 2 brands but" in error.message
    assert "holds 1 record files" in error.message
    assert "edited by hand or only partly copied" in error.message
    assert "Pull again" in error.message


def test_error_count_mismatch_when_a_kind_folder_is_missing(written: Path) -> None:
    shutil.rmtree(written / "products")
    error = read_error(written)
    assert error.path == str(written / "products")
    assert "lists 2 products" in error.message


def test_error_digest_mismatch(written: Path) -> None:
    path = written / record_path("products", "SKU-123")
    body = orjson.loads(path.read_bytes())
    body["record"]["price"] = 1
    path.write_bytes(orjson.dumps(body))
    error = read_error(written)
    assert error.path == str(written / "products")
    assert "do not match the digest" in error.message
    assert "edited by hand or only partly copied" in error.message


def test_error_folder_the_manifest_does_not_list(written: Path) -> None:
    (written / "customers").mkdir()
    error = read_error(written)
    assert error.path == str(written / "customers")
    assert "does not list" in error.message


def test_error_in_a_nested_record_file_names_that_file(written: Path) -> None:
    path = written / record_path("brands", "acme")
    path.unlink()
    path.mkdir()  # record files in sub-folders are read too
    (path / "inner.json").write_bytes(b"[")
    error = read_error(written)
    assert error.path == str(path / "inner.json")


# --- numbers --------------------------------------------------------------------------------


def test_every_number_is_written_in_one_form(tmp_path: Path) -> None:
    floats = {"price": 189.0, "weight": 0.8, "depth": -0.0, "rules": [{"qty": 2.0}], "n": 1e16}
    ints = {"price": 189, "weight": 0.8, "depth": 0, "rules": [{"qty": 2}], "n": 10**16}
    write_snapshot(tmp_path / "a", make({"products": {"P": floats}}))
    write_snapshot(tmp_path / "b", make({"products": {"P": ints}}))

    path = record_path("products", "P")
    written = (tmp_path / "a" / path).read_bytes()
    assert written == (tmp_path / "b" / path).read_bytes()
    assert b'"price": 189,' in written and b'"qty": 2' in written and b'"depth": 0,' in written
    assert b'"n": 10000000000000000' in written and b'"weight": 0.8' in written
    assert (tmp_path / "a" / MANIFEST).read_bytes() == (tmp_path / "b" / MANIFEST).read_bytes()
    assert read_snapshot(tmp_path / "a").records("products")["P"] == ints


def test_a_snapshot_written_before_numbers_had_one_form_still_reads(tmp_path: Path) -> None:
    """Its files say ``189.0`` and its manifest's digest is over those very bytes."""
    folder = tmp_path / "old"
    write_snapshot(folder, make({"products": {"P": {"price": 189}}}))
    record_file = folder / record_path("products", "P")
    record_file.write_bytes(record_file.read_bytes().replace(b"189", b"189.0"))
    manifest = orjson.loads((folder / MANIFEST).read_bytes())
    old_body = orjson.dumps({"P": {"price": 189.0}}, option=orjson.OPT_SORT_KEYS)
    manifest["kinds"]["products"]["digest"] = "sha256:" + hashlib.sha256(old_body).hexdigest()
    (folder / MANIFEST).write_bytes(orjson.dumps(manifest))

    old = read_snapshot(folder)
    assert (
        old.kinds["products"].digest
        == make({"products": {"P": {"price": 189}}}).kinds["products"].digest
    )
    record_file.write_bytes(record_file.read_bytes().replace(b"189.0", b"188.0"))
    with pytest.raises(SnapshotError, match="do not match the digest"):
        read_snapshot(folder)


# --- work folders a killed pull left behind ---------------------------------------------------


def test_a_pull_killed_with_sigkill_leaves_a_folder_the_next_write_removes(tmp_path: Path) -> None:
    """A real process makes its work folder the way write_snapshot does, then dies by SIGKILL.
    The next write removes that folder and only such folders: a live process's, another
    snapshot's, names of other patterns and a recent one of the older naming stay."""
    import signal
    import subprocess
    import sys

    target = tmp_path / "snapshots" / "staging"
    target.parent.mkdir()
    killed = subprocess.run(
        [
            sys.executable,
            "-c",
            "import os, signal, sys; from pathlib import Path; from stagesync import snapshot; "
            "folder = snapshot._work_folder(Path(sys.argv[1]), 'tmp'); folder.mkdir(); "
            "(folder / 'brands').mkdir(); print(folder.name, flush=True); "
            "os.kill(os.getpid(), signal.SIGKILL)",
            str(target),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert killed.returncode == -signal.SIGKILL
    leftover = target.parent / killed.stdout.strip()
    assert leftover.is_dir()
    live = store._work_folder(target, "tmp")  # this process: alive
    kept = [
        live,
        target.parent / ".production.tmp-1-1-0badcafe",  # another snapshot's
        target.parent / ".staging.tmp-mine",  # not our pattern
        target.parent / ".staging.tmp-0badcafe",  # older naming, fresh
    ]
    for folder in kept:
        folder.mkdir()

    write_snapshot(target, make(STORE))

    assert not leftover.exists()
    assert all(folder.is_dir() for folder in kept)
    assert read_snapshot(target) == make(STORE)
    old = target.parent / ".staging.tmp-0badcafe"
    os.utime(old, (0, 0))
    assert store.remove_stale_work_folders(target) == [old]
