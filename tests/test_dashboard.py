"""`callscope serve` over HTTP: the real server (a subprocess) over a real SQLite store filled by
`callscope load` from real PCA documents and a real recording (tests/dashboard_server.py)."""

from __future__ import annotations

import html
import json
import re
import shutil
import socket

import pytest
from click.testing import CliRunner

from callscope.cli import main
from callscope.cli.serve import default_data_dir
from callscope.dashboard.documents import sentiment_class, signed_sentiment
from callscope.dashboard.transcript_marks import REDACTED, fragments, redactions
from tests.dashboard_server import AGENT, CUSTOMER, SAMPLE_TURNS, XSS_IMG, XSS_SCRIPT, Server, build, sample_call

SAMPLE_CALLS = ["sample-call", "relative-media-call", "redacted-call", "passwd-call", "link-call", "encoded-call",
                "dotdot-call", "beside-call", "abs-call"]  # one conversation time: newest id first
ALL = [*SAMPLE_CALLS, "xss-call", "g3", "g2", "g1", "outside-call", "corrupt-call", "missing-call",
       "pca_output_testfile"]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return build(tmp_path_factory.mktemp("dashboard"))


@pytest.fixture(scope="module")
def server(dataset):
    running = Server("--store", str(dataset.store), "--data", str(dataset.data))
    yield running
    log = running.stop()
    assert "Traceback" not in log, log


def guids(server, query: str) -> list[str]:
    status, body = server.json(f"/api/calls?{query}")
    assert status == 200, body
    return [call["guid"] for call in body["calls"]]


@pytest.mark.parametrize(("query", "expected"), [
    ("", ALL[:50]),
    ("agent=ChrisL", ["g3", "g1", "outside-call", "corrupt-call", "missing-call"]),
    ("since=2025-02-20&until=2025-02-22", ["g3", "g2"]),
    ("customer_sentiment_below=-1", ["g3"]),
    ("customer_sentiment_above=1", ["pca_output_testfile"]),
    ("sentiment_change=improving", ["g1"]),
    ("sentiment_change=worsening&language=fr", ["g2"]),
    ("category=billing", ["g2"]),
    ("entity=LOCATION%3Dparis", ["g1"]),
    ("entity=Networks+abc", ["pca_output_testfile"]),
    ("entity=texas", SAMPLE_CALLS),
    ("text=card+Paris", ["g1"]),
    ("text=Yankee&agent=Diane", SAMPLE_CALLS),
    ("since=24h", []),
])
def test_api_filters(server, query, expected):
    assert guids(server, query) == expected


def test_api_continuation_walks_every_call_once(server):
    seen, token, pages = [], None, 0
    while True:
        status, body = server.json("/api/calls?limit=3" + (f"&continuation={token}" if token else ""))
        assert status == 200 and len(body["calls"]) <= 3
        seen += [call["guid"] for call in body["calls"]]
        pages += 1
        token = body["continuation"]
        if token is None:
            break
    assert seen == ALL and pages == 6
    # filters and continuation together
    first = server.json("/api/calls?agent=ChrisL&limit=2")[1]
    rest = server.json(f"/api/calls?agent=ChrisL&limit=2&continuation={first['continuation']}")[1]
    assert [c["guid"] for c in first["calls"] + rest["calls"]] == ["g3", "g1", "outside-call", "corrupt-call"]


@pytest.mark.parametrize(("query", "message"), [
    ("since=last+tuesday", "not a duration"),
    ("continuation=zz", "continuation token"),
    ("sentiment_change=sideways", "sentiment_change"),
    ("customer_sentiment_below=low", "customer_sentiment_below"),
    ("limit=0", "limit"),
    ("since=800000d", "800000d"),  # before year 1
    ("until=99999999999d", "99999999999d"),  # more than a timedelta holds
])
def test_api_bad_filters_are_422_with_a_reason(server, query, message):
    status, body = server.json(f"/api/calls?{query}")
    assert status == 422 and message in body["detail"]
    status, _, page = server.request(f"/calls?{query}")
    assert status == 422 and message in page.decode() and "Traceback" not in page.decode()


def test_api_call_document_and_links(server, dataset):
    status, call = server.json("/api/calls/sample-call")
    assert status == 200
    assert (call["agent"], call["customer"], call["redacted"]) == ("Diane", "Sheila", False)
    assert call["audio"] == "/api/calls/sample-call/audio" and call["document_error"] is None
    assert call["page"] == "/calls/sample-call"
    status, document = server.json(call["document"])
    assert status == 200 and document == json.loads((dataset.results / "sample-call.json").read_text())

    status, g1 = server.json("/api/calls/g1")
    assert status == 200 and g1["audio"] is None  # g1.wav is nowhere
    assert server.json("/api/calls/corrupt-call")[1]["document_error"].endswith("(Expecting value: line 1 column 36 "
                                                                                 "(char 35))")
    assert server.json("/api/calls/no-such-call") == (404, {"detail": "no call 'no-such-call' in the store"})
    status, body = server.json("/api/calls/corrupt-call/document")
    assert status == 422 and "not valid JSON" in body["detail"]
    status, body = server.json("/api/calls/missing-call/document")
    assert status == 404 and "is missing" in body["detail"]
    status, body = server.json("/api/calls/outside-call/document")
    assert status == 404 and "outside the data directory" in body["detail"]


def test_openapi_document_lists_the_api(server):
    status, spec = server.json("/api/openapi.json")
    assert status == 200 and spec["openapi"].startswith("3.")
    assert set(spec["paths"]) == {"/api/calls", "/api/overview", "/api/calls/{guid}", "/api/calls/{guid}/document",
                                  "/api/calls/{guid}/audio", "/api/calls/{guid}/ask"}
    names = {p["name"] for p in spec["paths"]["/api/calls"]["get"]["parameters"]}
    assert names == {"since", "until", "agent", "customer_sentiment_below", "customer_sentiment_above",
                     "sentiment_change", "category", "entity", "language", "text", "limit", "continuation"}
    status, _, page = server.request("/api/docs")
    assert status == 200 and b'src="/static/apidocs.js"' in page
    status, _, script = server.request("/static/apidocs.js")
    assert status == 200 and b"innerHTML" not in script
    for path in ("/overview", "/calls", "/calls/sample-call", "/api/docs"):
        body = server.request(path)[2].decode()
        assert not re.search(r'(src|href)="(https?:)?//', body), path  # nothing from another server


def test_audio_is_served_with_ranges(server, dataset):
    audio = dataset.audio.read_bytes()
    status, headers, body = server.request("/api/calls/sample-call/audio")
    assert status == 200 and body == audio
    assert headers["content-type"] == "audio/wav" and headers["accept-ranges"] == "bytes"

    status, headers, body = server.request("/api/calls/sample-call/audio", headers={"Range": "bytes=100-199"})
    assert status == 206 and body == audio[100:200]
    assert headers["content-range"] == f"bytes 100-199/{len(audio)}" and headers["content-length"] == "100"
    status, headers, body = server.request("/api/calls/sample-call/audio", headers={"Range": "bytes=-500"})
    assert status == 206 and body == audio[-500:]
    status, _, body = server.request("/api/calls/sample-call/audio", headers={"Range": f"bytes={len(audio) - 10}-"})
    assert status == 206 and body == audio[-10:]
    status, headers, _ = server.request("/api/calls/sample-call/audio", headers={"Range": f"bytes={len(audio)}-"})
    assert status == 416 and headers["content-range"] == f"bytes */{len(audio)}"
    status, headers, body = server.request("/api/calls/sample-call/audio", method="HEAD")
    assert status == 200 and body == b"" and headers["content-length"] == str(len(audio))


def test_audio_beside_the_json_relative_and_the_redacted_copy(server, dataset):
    assert server.request("/api/calls/beside-call/audio")[2] == (dataset.results / "beside.wav").read_bytes()
    assert server.request("/api/calls/relative-media-call/audio")[2] == dataset.audio.read_bytes()
    # a redacted call plays its redacted copy, never the original its MediaFileUri names
    status, _, body = server.request("/api/calls/redacted-call/audio")
    assert status == 200 and body == dataset.redacted_audio.read_bytes() != dataset.audio.read_bytes()
    page = server.request("/calls/redacted-call")[2].decode()
    assert '<span class="badge redacted"' in page and "[PII] in New Jersey" in page and "Diane in" not in page


@pytest.mark.parametrize("guid", ["abs-call", "passwd-call", "dotdot-call", "encoded-call", "link-call"])
def test_recordings_outside_the_data_directory_are_refused(server, guid):
    status, _, body = server.request(f"/api/calls/{guid}/audio")
    assert status == 404 and b"RIFF" not in body and b"root:" not in body
    assert server.json(f"/api/calls/{guid}")[1]["audio"] is None
    assert b"<audio" not in server.request(f"/calls/{guid}")[2]


@pytest.mark.parametrize("path", [
    "/static/../../../../etc/passwd",
    "/static/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/static/..%2f..%2f..%2f..%2fetc%2fpasswd",
    "/static/%2e%2e%2fapp.py",
    "/static/%2e%2e%2f%2e%2e%2fdashboard%2fapp.py",
    "/calls/..%2f..%2f..%2fetc%2fpasswd",
    "/calls/%2e%2e%2f%2e%2e%2foutside%2fsecret.wav",
    "/api/calls/..%2f..%2fetc%2fpasswd/audio",
    "/api/calls/%2e%2e%2f%2e%2e%2foutside%2fsecret.wav/audio",
    "/api/calls/..%2foutside-call/document",
    "/api/calls/%2Fetc%2Fpasswd/document",
    "/../../../../etc/passwd",
])
def test_traversal_in_urls_is_refused(server, path):
    status, _, body = server.request(path)
    assert status in (400, 404), (path, status)
    assert b"root:" not in body and b"RIFF" not in body and b"def create_app" not in body


def test_call_text_is_escaped(server):
    for path in ("/calls/xss-call", "/calls?agent=Eve%3Cb%3E"):
        status, headers, body = server.request(path)
        page = body.decode()
        assert status == 200 and "xss-call" in page
        assert "<script>window" not in page and "<img src=x" not in page and "<b>" not in page
        assert "script-src 'self'" in headers["content-security-policy"]
        assert html.escape(XSS_SCRIPT, quote=False) in page.replace("&#34;", '"').replace("&#39;", "'")
    # the overview names the agent and the category (in the choices, the agents' table and the chart)
    status, _, body = server.request("/overview?agent=Eve%3Cb%3E")
    page = body.decode()
    assert status == 200 and "<b>" not in page and "<i>" not in page
    assert page.count("Eve&lt;b&gt;") >= 3 and "&lt;i&gt;cat&lt;/i&gt;" in page
    page = server.request("/calls/xss-call")[2].decode()
    assert html.escape(XSS_IMG).replace("&quot;", "&#34;") in page
    assert "&lt;i&gt;cat&lt;/i&gt;" in page


@pytest.mark.parametrize(("guid", "status", "message"), [
    ("missing-call", 404, "is missing (moved or deleted since `callscope load`)"),
    ("corrupt-call", 422, "is not valid JSON"),
    ("outside-call", 404, "lies outside the data directory"),
    ("no-such-call", 404, "There is no call &#39;no-such-call&#39; in the store"),
])
def test_unreadable_calls_show_an_error_page(server, guid, status, message):
    answer, headers, body = server.request(f"/calls/{guid}")
    page = body.decode()
    assert answer == status and headers["content-type"].startswith("text/html")
    assert message in page and "Traceback" not in page and 'href="/calls"' in page


def test_call_page_shows_the_analysis(server, dataset):
    status, _, body = server.request("/calls/sample-call")
    page = body.decode()
    assert status == 200
    assert page.count('<li class="turn ') == len(SAMPLE_TURNS) == page.count('<rect class="band ')
    assert page.count('class="quarter-point ') == 8  # two speakers, four quarters
    for speaker, start, _end, text, _sentiment in SAMPLE_TURNS:
        assert f'data-start="{start}"' in page
    texts = [re.sub(r"<[^>]+>", "", html.unescape(found))
             for found in re.findall(r'<p class="text">(.*?)</p>', page, re.S)]
    assert texts == [text for *_, text, _ in SAMPLE_TURNS]
    assert page.count('<span class="speaker agent">Agent</span>') == 5
    assert page.count('<span class="speaker customer">Customer</span>') == 4

    # the timeline: a band per turn in its sentiment's colour, loudness bars coloured the same way
    timeline = page.split('id="timeline"')[1].split("</svg>")[0]
    document = json.loads((dataset.results / "sample-call.json").read_text())
    bands = re.findall(r'<rect class="band (s-[a-z0-9]+)"[^>]*data-turn="(\d+)"', timeline)
    assert [css for css, _ in bands] == [sentiment_class(signed_sentiment(segment))
                                         for segment in document["SpeechSegments"]]
    assert {"s-neg2", "s-neu", "s-pos1", "s-pos2"} <= {css for css, _ in bands}
    loudness = sum(max(int(end - start + 0.999), 1) for _, start, end, _, _ in SAMPLE_TURNS)
    assert len(re.findall(r'<rect class="loud s-', timeline)) == loudness
    assert timeline.count('<rect class="silence-band"') == 1 and "no one speaks 0:00–0:07 (6.7 s)" in timeline

    # the header's figures, from the document
    interruptions = sum(1 for segment in document["SpeechSegments"] if segment["SegmentInterruption"])
    figures = re.sub(r"<[^>]+>", " ", page.split('id="key-figures"')[1].split("</dl>")[0])
    for label, role, seconds in (("Agent", AGENT, 11.2), ("Customer", CUSTOMER, 11.3)):
        words = sum(len(text.split()) for speaker, _, _, text, _ in SAMPLE_TURNS if speaker == role)
        assert f"{label} speed" in figures and f"{round(words / (seconds / 60))} wpm" in figures
    assert re.search(rf"Interruptions\s+{interruptions}\b", figures)
    assert "Longest silence" in figures and "6.7 s" in figures
    assert "2025-03-02 09:30:00<" in page and "2025-03-02 09:30:00." not in page  # no microseconds

    # entities are marked inside the text, not listed under it
    # (a mark is cut at word boundaries, so that the word being played can be lit inside it)
    marked = re.findall(r'<mark class="m m-LOCATION on" title="LOCATION">(.*?)</mark>', page)
    assert "".join(marked) == "TexasChicagoNew Jersey"  # New Jersey's offsets in the fixture are off: found by text
    assert "LOCATION: Texas" not in page
    talk = page.split('id="talk-time"')[1].split("</svg>")[0]
    assert "Non-talk time" in talk and "11.2 s (37%)" in talk and "6.7 s (22%)" in talk
    for expected in ("regional_banter", "greeting", "originally from Chicago", "I&#39;m in New Jersey now though.",
                     "they all call me a Yankee down here", "Two callers introduce themselves", "Small talk",
                     'src="/api/calls/sample-call/audio"', 'type="audio/wav"', "New Jersey", "+3.6", "-2.8"):
        assert expected in page, expected
    assert "redacted" not in page.split("</h1>")[0]
    assert "<h2>Summary</h2>" in page and "Key quotes" not in page  # a written summary, no insights


def test_typed_redaction_tokens_are_marked_too():
    # --redaction-token type writes the PII's type in its place
    text = "Call [NAME] on [PHONE_NUMBER] today, about the [PII]."
    marked = [piece.text for piece in fragments(text, [], redactions(text)) if piece.mark == REDACTED]
    assert marked == ["[NAME]", "[PHONE_NUMBER]", "[PII]"]


def test_redactions_are_marked_in_the_text(server):
    page = server.request("/calls/redacted-call")[2].decode()
    assert page.count('<mark class="m m-PII on" title="redacted">[PII]</mark>') == \
        sum(text.count("Diane") for *_, text, _ in SAMPLE_TURNS)
    assert 'data-mark="PII" checked' in page


def test_the_reference_sample_renders(server):
    page = server.request("/calls/pca_output_testfile")[2].decode()
    assert page.count('<li class="turn ') == 12 == page.count('<rect class="band ')
    assert "Networks abc" in page and '<span class="speaker agent">Agent</span>' in page
    assert "No recording of this call" in page  # its MediaFileUri is an S3 object not beside it


def test_list_page_filters_and_pages(server):
    page = server.request("/calls?agent=ChrisL&limit=2")[2].decode()
    rows = re.findall(r'<tr data-guid="([^"]+)"', page)
    assert rows == ["g3", "g1"] and "<strong>5</strong> calls match" in page
    assert 'value="ChrisL"' in page
    next_url = html.unescape(re.search(r'<a class="next" href="([^"]+)"', page)[1])
    assert "agent=ChrisL" in next_url and "continuation=" in next_url
    later = server.request(next_url)[2].decode()
    assert re.findall(r'<tr data-guid="([^"]+)"', later) == ["outside-call", "corrupt-call"]
    assert "First page" in later
    assert 'class="chip s-neg2">-3.00<' in page  # g3's customer sentiment, coloured
    bad = server.request("/calls?since=whenever")
    assert bad[0] == 422 and "not a duration" in bad[2].decode() and "Traceback" not in bad[2].decode()


def test_other_host_names_are_refused(server):
    assert server.request("/", headers={"Host": "attacker.example"})[0] == 400
    assert server.request("/overview", headers={"Host": f"localhost:{server.port}"})[0] == 200


def test_a_taken_port_is_one_line(dataset):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        outcome = CliRunner().invoke(main, ["serve", "--store", str(dataset.store), "--data", str(dataset.data),
                                            "--port", str(port)])
    assert outcome.exit_code == 1
    assert outcome.output.strip() == (f"Error: port {port} on 127.0.0.1 is taken (another server is listening "
                                      "there): choose another with --port")


def test_data_directory_defaults_to_the_store_s_folder(dataset, tmp_path, monkeypatch):
    assert default_data_dir(str(dataset.store)) == dataset.store.parent.resolve()
    monkeypatch.chdir(tmp_path)
    assert default_data_dir("dynamodb://calls") == tmp_path
    missing = CliRunner().invoke(main, ["serve", "--store", str(dataset.store), "--data", str(tmp_path / "nope")])
    assert missing.exit_code == 1 and "no such folder" in missing.output


def test_relative_stored_paths_resolve_from_the_working_folder(dataset, tmp_path, monkeypatch):
    """`callscope load results/` stores relative paths: served from the folder it ran in."""
    store = tmp_path / "relative.db"
    with monkeypatch.context() as patch:
        patch.chdir(dataset.data)
        outcome = CliRunner().invoke(main, ["load", "results", "--store", str(store)])
    assert "14 loaded, 0 skipped, 1 failed" in outcome.output  # corrupt-call.json
    running = Server("--store", str(store), "--data", str(dataset.data), cwd=dataset.data)
    try:
        status, call = running.json("/api/calls/sample-call")
        assert call["path"] == "results/sample-call.json" and call["audio"]
        assert running.request("/calls/sample-call")[0] == 200
    finally:
        running.stop()


def test_serve_a_results_folder_loads_it_and_serves_its_files(dataset, tmp_path):
    """`callscope serve results/demo` after `make demo`: one command, the folder's calls on the dashboard."""
    results = tmp_path / "results"
    shutil.copytree(dataset.data / "results", results)
    running = Server(str(results), cwd=tmp_path)
    try:
        status, page = running.json("/api/calls?limit=100")
        assert status == 200
        assert "sample-call" in {call["guid"] for call in page["calls"]}
        assert running.request("/calls/sample-call")[0] == 200
    finally:
        log = running.stop()
    assert (results / ".callscope" / "dashboard.db").is_file()
    assert "14 calls loaded from" in log and "1 failed" in log and "corrupt-call.json" in log


def test_recordings_elsewhere_are_served_from_the_audio_folder_only(dataset, tmp_path):
    """`--audio DIR`: recordings kept apart from the results (examples/calls after `make demo`)."""
    results, recordings = tmp_path / "results", tmp_path / "recordings"
    results.mkdir()
    recordings.mkdir()
    shutil.copy(dataset.audio, recordings / "call.wav")
    (results / "call.json").write_text(json.dumps(sample_call("apart-call", "calls/call.wav")))  # as analyze wrote it
    (results / "leak.json").write_text(json.dumps(sample_call("leak-call", str(dataset.outside / "secret.wav"))))
    with_audio, without = (Server(str(results), "--audio", str(recordings), cwd=tmp_path),
                           Server(str(results), cwd=tmp_path))
    try:
        status, headers, body = with_audio.request("/api/calls/apart-call/audio", headers={"Range": "bytes=0-99"})
        assert status == 206 and body == dataset.audio.read_bytes()[:100]
        assert without.request("/api/calls/apart-call/audio")[0] == 404
        assert with_audio.request("/api/calls/leak-call/audio")[0] == 404  # outside both folders
    finally:
        with_audio.stop()
        without.stop()


def test_only_audio_is_served(dataset, tmp_path):
    """A MediaFileUri naming the store's own file, a JSON or a text file dressed as .wav is not a recording."""
    results, recordings = tmp_path / "results", tmp_path / "recordings"
    results.mkdir()
    recordings.mkdir()
    shutil.copy(dataset.audio, results / "call.wav")
    (results / "notes.txt").write_text("the customer's card number is 4111 1111 1111 1111\n")
    (results / "fake.wav").write_text("not a recording at all\n" * 50)
    (recordings / "fake.mp3").write_bytes(b"SQLite format 3\x00" + bytes(4000))
    media = {"good-call": "call.wav", "store-call": ".callscope/dashboard.db", "json-call": "good-call.json",
             "text-call": "notes.txt", "fake-wav-call": "fake.wav", "fake-mp3-call": "fake.mp3"}
    for guid, uri in media.items():
        (results / f"{guid}.json").write_text(json.dumps(sample_call(guid, uri)))
    running = Server(str(results), "--audio", str(recordings), cwd=tmp_path)
    try:
        status, headers, body = running.request("/api/calls/good-call/audio")
        assert status == 200 and body == dataset.audio.read_bytes() and headers["content-type"] == "audio/wav"
        for guid in media.keys() - {"good-call"}:
            status, _, body = running.request(f"/api/calls/{guid}/audio")
            assert status == 404 and b"SQLite" not in body and b"4111" not in body, (guid, status)
            assert running.json(f"/api/calls/{guid}")[1]["audio"] is None, guid
            assert b"<audio" not in running.request(f"/calls/{guid}")[2], guid
    finally:
        log = running.stop()
    assert "Traceback" not in log, log


def test_every_listed_call_is_reachable_whatever_its_guid(dataset, tmp_path):
    """GUIDs with a slash (one even ending like an API route), a percent sign, a space or a question mark."""
    results = tmp_path / "results"
    results.mkdir()
    shutil.copy(dataset.audio, results / "call.wav")
    odd = ["team/2025/03/call-1", "a/audio", "b/document", "100% sure", "why?#here", "/leading", "trailing/"]
    for index, guid in enumerate(odd):
        (results / f"odd-{index}.json").write_text(json.dumps(sample_call(guid, "call.wav")))
    running = Server(str(results), cwd=tmp_path)
    try:
        page = running.request("/calls?limit=100")[2].decode()
        links = {html.unescape(guid): html.unescape(href)
                 for guid, href in re.findall(r'<tr data-guid="([^"]*)">.*?<a href="([^"]+)"', page, re.S)}
        assert set(links) == set(odd)
        for guid, link in links.items():
            status, _, body = running.request(link)
            assert status == 200 and html.escape(guid) in body.decode().replace("&#39;", "'"), (guid, link)
            status, call = running.json(f"/api/calls{link.removeprefix('/calls')}")
            assert status == 200 and call["guid"] == guid and call["page"] == link, (guid, call)
            status, document = running.json(call["document"])
            assert status == 200 and document["ConversationAnalytics"]["GUID"] == guid
            status, _, audio = running.request(call["audio"], headers={"Range": "bytes=0-99"})
            assert status == 206 and audio == dataset.audio.read_bytes()[:100], guid
        # "a/audio" is a call of its own, not the recording of a call "a"
        assert running.json("/api/calls/a")[0] == 404
    finally:
        log = running.stop()
    assert "Traceback" not in log, log
