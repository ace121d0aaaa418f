"""The benchmark's traffic: the URLs of its realistic mix are real catalog pages, wrk
plays them with Zipf popularity and counts refused answers and page-cache hits, and
its command line refuses what it cannot run."""

import shutil
import subprocess
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.test import Client

from bench import traffic
from bench.catalog_pages import mix_urls, parse_args
from tests.factories import CreditFactory, OfferFactory, RecordingFactory


def test_the_mix_is_made_of_distinct_catalog_pages_that_answer(db):
    for _ in range(6):
        offer = OfferFactory()
        CreditFactory(recording=RecordingFactory(release=offer.release))

    urls = mix_urls(60)

    assert len(urls) == len(set(urls)) == 60
    assert any(url.startswith("/releases/") for url in urls)
    assert any(url.startswith("/search/?q=") for url in urls)
    client = Client()
    for url in urls:
        assert client.get(url).status_code == 200, url


def test_zipf_popularity_puts_the_first_url_far_ahead():
    weights = traffic.zipf_weights(2000, 1.0)
    visits = Counter(traffic.zipf_sample(list(range(2000)), weights, 20000))

    assert visits[0] > visits[1] > visits[9] > visits[999]
    assert len(visits) > 500


class _Recorder(BaseHTTPRequestHandler):
    seen = Counter()
    lock = threading.Lock()

    def do_GET(self):
        with self.lock:
            self.seen[self.path] += 1
        if self.path == "/forbidden":
            self.send_response(403)
        else:
            self.send_response(200)
            if self.path == "/cached":
                self.send_header("X-Page-Cache", "hit")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


@pytest.mark.skipif(not shutil.which("wrk"), reason="needs wrk (apt-get install wrk)")
def test_wrk_plays_the_mix_by_popularity_and_counts_refusals_and_hits(tmp_path):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    script = tmp_path / "mix.lua"
    paths = ["/cached", "/second", "/forbidden"]
    script.write_text(traffic.mix_script(paths, traffic.zipf_weights(3), headers={"Cookie": "sessionid=abc"}))
    try:
        out = subprocess.run(
            ["wrk", "-t1", "-c2", "-d1s", "-s", str(script), f"http://127.0.0.1:{server.server_port}/"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        server.shutdown()

    result = traffic.parse_wrk(out)
    seen = _Recorder.seen
    assert seen["/cached"] > seen["/second"] > seen["/forbidden"] > 0
    assert set(seen) == set(paths)
    # wrk stops with up to one request per connection (2) answered but not yet read.
    assert seen["/forbidden"] - 2 <= result["errors"] <= seen["/forbidden"]
    assert result["statuses"] == {403: result["errors"]}
    assert seen["/cached"] - 2 <= result["hits"] <= seen["/cached"] and result["misses"] == 0


def test_a_post_script_sends_the_form_with_the_visitors_cookie_and_token():
    script = traffic.post_script(
        "/cart/add/", {"offer": 7, "quantity": 1}, {"Cookie": "sessionid=abc", "X-CSRFToken": "t"}
    )

    assert "wrk.method = 'POST'" in script
    assert 'wrk.body = "offer=7&quantity=1"' in script
    assert 'wrk.headers["X-CSRFToken"] = "t"' in script
    assert 'wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"' in script


def test_the_command_line_defaults_to_the_issues_setup_and_refuses_unknown_parts(capsys):
    args = parse_args([])
    assert (args.workers, args.connections, args.releases) == (2, 16, 100_000)
    assert args.sqlite_path.endswith("var/bench-100k.sqlite3")
    assert parse_args(["--parts", "render, search"]).parts == ["render", "search"]

    with pytest.raises(SystemExit):
        parse_args(["--parts", "render,everything"])
    assert "unknown part(s) everything" in capsys.readouterr().err
