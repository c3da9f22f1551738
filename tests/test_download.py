"""``--download``: fetch a dataset zip with keras.utils.get_file, extract it safely, load it — offline, via loopback."""
from __future__ import annotations

import http.server
import io
import os
import socket
import threading
import zipfile

import pytest
from IPython.core.error import UsageError
from PIL import Image

from nnmagics.data import download
from nnmagics.data.download import Dataset, download_dataset, resolve
from nnmagics.data.images import load_images
from nnmagics.errors import NNUsageError


def _tiny_zip() -> bytes:
    """cats_and_dogs_filtered.zip in miniature: 2 train + 1 validation JPEG per class."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for split, numbers in (("train", (0, 1)), ("validation", (2,))):
            for class_name, colour in (("cats", (200, 60, 60)), ("dogs", (60, 60, 200))):
                for n in numbers:
                    image = io.BytesIO()
                    Image.new("RGB", (40 + n, 30), colour).save(image, "JPEG")
                    zf.writestr(f"cats_and_dogs_filtered/{split}/{class_name}/{class_name[:-1]}.{n}.jpg",
                                image.getvalue())
    return buf.getvalue()


@pytest.fixture
def server():
    """A loopback HTTP server: ``/pets.zip`` (a dataset zip) and ``/page.zip`` (an HTML page); counts requests."""
    files = {"/pets.zip": _tiny_zip(), "/page.zip": b"<html>Sign in to continue</html>"}
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's naming
            hits.append(self.path)
            body = files.get(self.path)
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    httpd.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.hits = hits
    yield httpd
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("NNMAGICS_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _serve_as_course_data(monkeypatch, url: str, file_hash: str | None = None) -> None:
    monkeypatch.setitem(download.DATASETS, "cats_and_dogs_filtered",
                        Dataset(url=url, file_name="cats_and_dogs_filtered.zip", file_hash=file_hash))


def test_named_dataset_is_downloaded_once_extracted_and_loads(server, monkeypatch, cache):
    _serve_as_course_data(monkeypatch, server.base + "/pets.zip")
    folder = download_dataset("cats_and_dogs_filtered", announce=None)
    assert folder == str(cache / "downloads" / "cats_and_dogs_filtered")
    assert os.path.isfile(cache / "downloads" / "cats_and_dogs_filtered.zip")
    data = load_images(folder, image_size=16)
    assert data.class_names == ["cats", "dogs"] and len(data) == 4 and len(data.validation) == 2
    assert download_dataset("cats_and_dogs_filtered", announce=None) == folder
    assert server.hits == ["/pets.zip"]  # the cached zip and extraction are re-used


def test_known_checksum_is_checked(server, monkeypatch):
    _serve_as_course_data(monkeypatch, server.base + "/pets.zip", file_hash="0" * 64)
    with pytest.raises(NNUsageError) as info:
        download_dataset("cats_and_dogs_filtered", announce=None)
    message = str(info.value)
    assert "failed" in message and "--make-samples" in message and "\n" not in message


def test_no_network_is_one_sentence_with_the_way_out(monkeypatch, cache):
    url = f"http://127.0.0.1:{_closed_port()}/cats_and_dogs_filtered.zip"
    _serve_as_course_data(monkeypatch, url)
    with pytest.raises(NNUsageError) as info:
        download_dataset("cats_and_dogs_filtered", announce=None)
    message = str(info.value)
    assert message.startswith(f"Downloading {url} failed (")
    assert "%nn_data --make-samples DIR" in message
    assert str(cache / "downloads" / "cats_and_dogs_filtered.zip") in message
    assert "\n" not in message and message.endswith(".")


def test_url_download_and_not_a_zip(server):
    folder = download_dataset(server.base + "/pets.zip", announce=None)
    assert load_images(folder, image_size=16).class_counts() == {"cats": 2, "dogs": 2}
    with pytest.raises(NNUsageError, match=r"is not a zip file; check the URL"):
        download_dataset(server.base + "/page.zip", announce=None)


def test_resolve_names_and_urls():
    assert resolve("cats_and_dogs_filtered").url.endswith("/mledu-datasets/cats_and_dogs_filtered.zip")
    a, b = resolve("https://a.example/x/pets.zip"), resolve("https://b.example/pets.zip")
    assert a.file_name.startswith("pets-") and a.file_name != b.file_name
    with pytest.raises(NNUsageError, match=r"Unknown dataset 'cats_dogs' for --download; give 'cats_and_dogs_filtered'"):
        resolve("cats_dogs")


def test_magic_download_loads_train_and_validation(ip, server, monkeypatch, capsys):
    _serve_as_course_data(monkeypatch, server.base + "/pets.zip")
    ip.run_line_magic("nn_data", "pets --download cats_and_dogs_filtered --image-size 16")
    assert len(ip.user_ns["pets"]) == 4 and len(ip.user_ns["pets_val"]) == 2
    assert "Downloading " + server.base + "/pets.zip" in capsys.readouterr().out
    with pytest.raises(UsageError, match="without a SOURCE"):
        ip.run_line_magic("nn_data", "pets some/folder --download cats_and_dogs_filtered")
