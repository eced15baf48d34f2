// Chapter 08: given a registry, when the program uploads a file in chunks, stops (by itself,
// by SIGKILL, or because the registry was killed and restarted) and resumes, then every PATCH
// followed the newest Location with the right Content-Range, the resume asked the registry
// where the upload stood and went on from there, the registry received every byte range
// exactly once, and the blob it stored has the file's digest. Bad input fails in one line and
// leaves nothing half-written.
#include "child_process.hpp"
#include "test_support.hpp"
#include "chapter_run.hpp"
#include "registry_instance.hpp"
#include "scripted_server.hpp"

#include "chunked_upload_sample.hpp"
#include "noise.hpp"
#include "wbclient/http/url.hpp"
#include "wbclient/transfer/chunked_upload.hpp"
#include "wbclient/transfer/progress.hpp"

#include <catch2/catch.hpp>
#include <fcntl.h>
#include <pty.h>
#include <csignal>

#include <fstream>
#include <mutex>
#include <set>
#include <thread>

using namespace harness;
namespace fs = std::filesystem;

using namespace test_support;

namespace {

const std::string program = "08_chunked_and_resumable_uploads";

// A file of `size` bytes the program has not seen before.
fs::path make_file(const fs::path& file, std::size_t size, unsigned seed) {
    workbook::write_noise(file, size, seed);
    return file;
}

std::optional<std::string> request_header(const ObservedExchange& exchange, const std::string& name) {
    for (const auto& [key, value] : exchange.request_headers)
        if (strcasecmp(key.c_str(), name.c_str()) == 0) return value;
    return std::nullopt;
}

std::string path_of(const std::string& url) { return wbclient::Url(url).path_and_query(); }

std::string session_of(const std::string& location) {
    const auto start = location.find("/blobs/uploads/") + 15;
    return location.substr(start, location.find('?') - start);
}

// The exchanges of one upload session, in order.
std::vector<ObservedExchange> of_session(const std::vector<ObservedExchange>& exchanges, const std::string& uuid) {
    std::vector<ObservedExchange> selected;
    for (const auto& e : exchanges)
        if (e.uri.find("/blobs/uploads/" + uuid) != std::string::npos) selected.push_back(e);
    return selected;
}

// The server's view: where each accepted PATCH of a session began, read from the _state the
// registry signed into the URL it was sent to.
std::vector<std::uint64_t> accepted_patch_offsets(const RegistryInstance& registry, const std::string& uuid) {
    std::vector<std::uint64_t> offsets;
    for (const auto& e : of_session(registry.access_log(), uuid))
        if (e.method == "PATCH" && e.status == 202) {
            const auto state = wbclient::upload_state_of(e.uri);
            REQUIRE(state);
            offsets.push_back(state->at("Offset").get<std::uint64_t>());
        }
    return offsets;
}

std::vector<std::uint64_t> chunk_starts(std::uint64_t size, std::uint64_t chunk) {
    std::vector<std::uint64_t> starts;
    for (std::uint64_t at = 0; at < size; at += chunk) starts.push_back(at);
    return starts;
}

// Every PATCH claims the bytes it carries and is sent to the Location of the answer before it;
// the registry acknowledges exactly those bytes. Returns the bytes the PATCHes carried.
std::uint64_t check_chunks_follow_locations(const std::vector<ObservedExchange>& session, std::uint64_t from) {
    std::uint64_t offset = from;
    for (std::size_t i = 1; i < session.size(); ++i) {
        const ObservedExchange& e = session[i];
        INFO(e.method << " " << e.uri);
        const std::string newest = path_of(session[i - 1].response_header("Location").value_or("?"));
        if (e.method == "PUT") {
            CHECK(e.uri.starts_with(newest + "&digest=sha256:"));
            continue;
        }
        CHECK(e.uri == newest);
        if (e.method != "PATCH") continue;
        CHECK(e.status == 202);
        CHECK(request_header(e, "Content-Range") ==
              std::to_string(offset) + "-" + std::to_string(offset + e.bytes_sent - 1));
        CHECK(request_header(e, "Content-Type") == "application/octet-stream");
        offset += e.bytes_sent;
        CHECK(e.response_header("Range") == "0-" + std::to_string(offset - 1));
    }
    return offset - from;
}

std::set<std::string> leftovers(const fs::path& directory) {
    std::set<std::string> names;
    for (const auto& entry : fs::directory_iterator(directory)) {
        const std::string name = entry.path().filename().string();
        if (name.ends_with(".tmp") || name.ends_with(".upload.json")) names.insert(name);
    }
    return names;
}

std::vector<ObservedExchange> by_the_program(const std::vector<ObservedExchange>& log) {
    std::vector<ObservedExchange> selected;
    for (const auto& e : log)
        if (e.user_agent != harness_user_agent) selected.push_back(e);
    return selected;
}

}  // namespace

TEST_CASE("chapter 08: the book's run: by hand, then chunks, interrupted and resumed", "[chapter08]") {
    Workspace workspace("chapter08");
    auto registry = start_registry({.role = "registry"}, workspace.path());
    const ChapterRun run = run_chapter(program, {}, workspace, {{"WORKBOOK_REGISTRY", registry->host_port()}});
    INFO(run.result.out << run.result.err << "client saw:\n" << summarize(run.transcript));
    REQUIRE(run.result.exit_code == 0);
    // stderr is not a terminal here: no progress bar, nothing at all.
    CHECK(run.result.err.empty());

    const fs::path sample = workspace.path() / "chunked-upload.bin";
    const wbclient::Digest digest = wbclient::digest_of_file(sample);
    // The sample is the same on every machine, so the book's digests are too: the program
    // wrote exactly the noise chunked_upload_sample.hpp names.
    CHECK(fs::file_size(sample) == 4608 * 1024);
    CHECK(harness::read_whole_file(sample) ==
          workbook::noise(workbook::chunked_upload_sample_size, workbook::chunked_upload_sample_seed));
    CHECK(digest.str() == "sha256:6ebc45c52d2943bc8ec64b3b0b084a3a9ada567c40c291b09dfa2de6cbb20fb5");
    CHECK(leftovers(workspace.path()).empty());  // the state file goes once the blob is stored

    const auto posts = select(run.transcript, "POST", "/v2/chunked-upload/blobs/uploads/");
    REQUIRE(posts.size() == 2);  // the session by hand, then the file's
    for (const auto& post : posts) {
        CHECK(post.status == 202);
        CHECK(post.response_header("Range") == "0-0");
    }

    SECTION("by hand: newest Location, a stale one refused, a gap appended, a cancel") {
        const std::string first = *posts[0].response_header("Location");
        const auto session = of_session(run.transcript, session_of(first));
        REQUIRE(session.size() == 6);
        CHECK(session[0].method == "PATCH");
        CHECK(session[0].uri == path_of(first));
        CHECK(request_header(session[0], "Content-Range") == "0-9");
        CHECK(session[0].response_header("Range") == "0-9");
        // The first Location once more: its _state says offset 0, the registry holds 10 bytes.
        CHECK(session[1].method == "GET");
        CHECK(session[1].uri == path_of(first));
        CHECK(session[1].status == 404);
        // 100-109 after 0-9: the spec says 416; 2.8.2 appends and says 0-19.
        CHECK(session[2].method == "PATCH");
        CHECK(session[2].uri == path_of(*session[0].response_header("Location")));
        CHECK(request_header(session[2], "Content-Range") == "100-109");
        CHECK(session[2].status == 202);
        CHECK(session[2].response_header("Range") == "0-19");
        CHECK(session[3].method == "GET");
        CHECK(session[3].status == 204);
        CHECK(session[3].response_header("Range") == "0-19");
        CHECK(session[4].method == "DELETE");
        CHECK(session[4].status == 204);
        CHECK(session[5].method == "GET");
        CHECK(session[5].status == 404);
        CHECK_THAT(run.result.out, Catch::Contains("The first Location again: 404 BLOB_UPLOAD_INVALID: its _state says Offset 0") &&
                                       Catch::Contains("A chunk claiming 100-109: 202, appended: the registry now holds 0-19") &&
                                       Catch::Contains("After DELETE: 404 BLOB_UPLOAD_UNKNOWN"));
        // The registry's side of the same story.
        std::vector<std::string> codes;
        for (const auto& e : of_session(registry->access_log(), session_of(first)))
            codes.push_back(e.method + " " + std::to_string(e.status) + " " + e.error_code);
        CHECK(codes == std::vector<std::string>{"PATCH 202 ", "GET 404 blob upload invalid", "PATCH 202 ", "GET 204 ",
                                                "DELETE 204 ", "GET 404 blob upload unknown"});
    }

    SECTION("the file: two chunks, a stop, a GET for the Range, three chunks, one PUT") {
        const std::string uuid = session_of(*posts[1].response_header("Location"));
        std::vector<ObservedExchange> session{posts[1]};
        for (const auto& e : of_session(run.transcript, uuid)) session.push_back(e);
        std::vector<std::string> shape;
        for (const auto& e : session) shape.push_back(e.method + " " + std::to_string(e.status));
        CHECK(shape == std::vector<std::string>{"POST 202", "PATCH 202", "PATCH 202", "GET 204", "PATCH 202",
                                                "PATCH 202", "PATCH 202", "PUT 201"});
        REQUIRE(session.size() == 8);  // the indexing below reads no further than that
        // The resume asked with the newest Location and was told 0-2097151.
        CHECK(session[3].response_header("Range") == "0-2097151");
        CHECK(check_chunks_follow_locations(session, 0) == 4608 * 1024);  // nothing sent twice
        for (std::size_t i : {1, 2, 4, 5}) CHECK(session[i].bytes_sent == 1024 * 1024);
        CHECK(session[6].bytes_sent == 512 * 1024);
        // The PUT carries no body, only the digest computed as the bytes went out.
        CHECK(session[7].uri.ends_with("&digest=" + digest.str()));
        CHECK(session[7].bytes_sent == 0);
        CHECK(session[7].response_header("Docker-Content-Digest") == digest.str());
        // The registry accepted each byte range once, and stored exactly the file.
        CHECK(accepted_patch_offsets(*registry, uuid) == chunk_starts(4608 * 1024, 1024 * 1024));
        CHECK(harness::read_whole_file(registry->blob_data(digest)) == harness::read_whole_file(sample));
        // A finished session leaves nothing behind in the repository's _uploads.
        CHECK_FALSE(fs::exists(registry->storage_root() / "docker/registry/v2/repositories/chunked-upload/_uploads" / uuid));
        CHECK_THAT(run.result.out, Catch::Contains("Resumed from chunked-upload.bin.upload.json: it says 2097152 bytes "
                                                   "were acknowledged; the registry holds 2097152") &&
                                       Catch::Contains("Finished: " + digest.str() + ", 4718592 bytes"));
    }
}

TEST_CASE("chapter 08: the registry is killed between chunks, restarted, and the upload resumes", "[chapter08]") {
    Workspace workspace("chapter08-registry-crash");
    auto registry = start_registry({.role = "registry"}, workspace.path());
    const std::uint64_t size = 3 * 1024 * 1024 + 100, chunk = 512 * 1024;
    const fs::path file = make_file(workspace.path() / "layer.bin", size, 1);
    const wbclient::Digest digest = wbclient::digest_of_file(file);
    const std::string target = registry->host_port() + "/survivor";

    const ChapterRun first =
        run_chapter(program, {"--chunk-size", "512K", "--stop-after", "3", "layer.bin", target}, workspace);
    INFO(first.result.out << first.result.err << "client saw:\n" << summarize(first.transcript));
    REQUIRE(first.result.exit_code == 0);
    CHECK_THAT(first.result.out, Catch::Contains("Stopped after 3 chunks, as if interrupted"));
    const fs::path state_file = workspace.path() / "layer.bin.upload.json";
    const auto saved = wbclient::UploadCheckpoint::load(state_file);
    CHECK(saved.acknowledged == 3 * chunk);
    CHECK(saved.file == file);
    CHECK(saved.file_size == size);
    CHECK(saved.chunk_size == chunk);
    const std::string uuid = session_of(saved.location);
    // What the state file keeps is the newest Location: the one the last PATCH was answered with.
    const auto sent = of_session(first.transcript, uuid);
    REQUIRE(sent.size() == 3);
    CHECK(sent.back().response_header("Location") == saved.location);

    // A crash, not a shutdown; then the same registry again: same storage, same http.secret.
    registry->kill();
    registry->start();

    const ChapterRun second = run_chapter(program, {"--resume", "layer.bin.upload.json"}, workspace);
    INFO(second.result.out << second.result.err << "client saw:\n" << summarize(second.transcript));
    REQUIRE(second.result.exit_code == 0);
    const auto session = of_session(second.transcript, uuid);
    REQUIRE(session.size() == 6);  // GET, four PATCHes (three of 512 KiB, one of 100 bytes), PUT
    CHECK(session[0].method == "GET");
    CHECK(session[0].uri == path_of(saved.location));
    CHECK(session[0].status == 204);
    // The registry came back holding exactly the three chunks it had acknowledged.
    CHECK(session[0].response_header("Range") == "0-1572863");
    CHECK(check_chunks_follow_locations(session, 3 * chunk) == size - 3 * chunk);
    CHECK(session.back().method == "PUT");
    CHECK(session.back().status == 201);
    CHECK(session.back().response_header("Docker-Content-Digest") == digest.str());
    // Its log, across the crash: every chunk accepted once, no request of the session refused.
    CHECK(accepted_patch_offsets(*registry, uuid) == chunk_starts(size, chunk));
    for (const auto& e : of_session(registry->access_log(), uuid)) CHECK(e.status < 300);
    CHECK(harness::read_whole_file(registry->blob_data(digest)) == harness::read_whole_file(file));
    CHECK(leftovers(workspace.path()).empty());
    CHECK_THAT(second.result.out, Catch::Contains("it says 1572864 bytes were acknowledged; the registry holds 1572864"));
}

TEST_CASE("chapter 08: the client is killed for real (SIGKILL) mid-upload and resumes", "[chapter08]") {
    Workspace workspace("chapter08-client-kill");
    auto registry = start_registry({.role = "registry"}, workspace.path());
    const std::uint64_t size = 2 * 1024 * 1024 + 1000, chunk = 256 * 1024;
    const fs::path file = make_file(workspace.path() / "data.bin", size, 2);
    const wbclient::Digest digest = wbclient::digest_of_file(file);
    const fs::path state_file = workspace.path() / "data.bin.upload.json";
    const fs::path transcript = workspace.path() / "killed.transcript.jsonl";

    // Paced at 1 MiB/s, the client spends most of its time between chunks, where a kill
    // should find it, state file saved, no chunk in flight.
    RunningProgram client({chapter_program(program).string(), "--chunk-size", "256K", "--limit-rate", "1M",
                           "data.bin", registry->host_port() + "/killed"},
                          {.environment = {{"WORKBOOK_TRANSCRIPT", transcript.string()}},
                           .working_directory = workspace.path()});
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    bool killed = false;
    while (!killed && client.running() && std::chrono::steady_clock::now() < deadline) {
        if (fs::exists(state_file) && wbclient::UploadCheckpoint::load(state_file).acknowledged >= chunk) {
            client.send(SIGKILL);
            killed = true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    const RunResult ended = client.wait(std::chrono::seconds(10));
    INFO(ended.out << ended.err);
    REQUIRE(killed);
    REQUIRE(ended.signal == SIGKILL);

    // The state file survived whole, and it is the one written after the last acknowledged chunk.
    const auto saved = wbclient::UploadCheckpoint::load(state_file);
    const std::string before = harness::read_whole_file(state_file);
    CHECK(saved.acknowledged % chunk == 0);
    CHECK(saved.acknowledged < size);
    bool answered = false;
    for (const auto& e : read_transcript(transcript))
        if (e.response_header("Location") == saved.location) {
            answered = e.method == "PATCH" && e.status == 202 &&
                       e.response_header("Range") == "0-" + std::to_string(saved.acknowledged - 1);
        }
    CHECK(answered);
    const std::string uuid = session_of(saved.location);

    const ChapterRun resumed = run_chapter(program, {"--resume", "data.bin.upload.json"}, workspace);
    INFO(resumed.result.out << resumed.result.err << "client saw:\n" << summarize(resumed.transcript));
    if (resumed.result.exit_code != 0) {
        // Rare: the kill caught a chunk in flight. It reached the registry, so the registry
        // holds more than the saved Location's _state says and refuses it; the session is lost.
        WARN("the kill caught a chunk in flight; checking that case instead");
        CHECK(resumed.result.exit_code == 1);
        CHECK(is_one_line(resumed.result.err));
        CHECK_THAT(resumed.result.err, Catch::Contains("BLOB_UPLOAD_INVALID") && Catch::Contains("start a new upload"));
        CHECK(harness::read_whole_file(state_file) == before);
        bool in_flight = false;
        for (const auto& e : of_session(registry->access_log(), uuid))
            in_flight = in_flight || (e.method == "PATCH" && e.uri == path_of(saved.location));
        CHECK(in_flight);
        return;
    }
    const auto session = of_session(resumed.transcript, uuid);
    REQUIRE(session.size() >= 3);
    CHECK(session[0].method == "GET");
    CHECK(session[0].uri == path_of(saved.location));
    CHECK(session[0].status == 204);
    CHECK(session[0].response_header("Range") == "0-" + std::to_string(saved.acknowledged - 1));
    CHECK(check_chunks_follow_locations(session, saved.acknowledged) == size - saved.acknowledged);
    CHECK(session.back().response_header("Docker-Content-Digest") == digest.str());
    // Nothing sent twice: the registry accepted each chunk once, and nothing else.
    CHECK(accepted_patch_offsets(*registry, uuid) == chunk_starts(size, chunk));
    for (const auto& e : of_session(registry->access_log(), uuid)) CHECK(e.status < 300);
    CHECK(harness::read_whole_file(registry->blob_data(digest)) == harness::read_whole_file(file));
    CHECK(leftovers(workspace.path()).empty());
}

TEST_CASE("chapter 08: a resume the registry refuses, or of a file that changed", "[chapter08]") {
    Workspace workspace("chapter08-refused");
    auto registry = start_registry({.role = "registry"}, workspace.path());
    const std::string target = registry->host_port() + "/refused";
    make_file(workspace.path() / "data.bin", 3 * 1024 + 5, 4);
    const fs::path state_file = workspace.path() / "data.bin.upload.json";
    wbclient::RegistryClient by_hand(registry->host_port());

    // Each case: upload one chunk and stop, do something behind the program's back, resume.
    struct Case {
        std::string name;
        std::function<void(const wbclient::UploadCheckpoint&)> meanwhile;
        std::string begins;  // the error, after the program's name
        std::string expected;
    };
    const std::vector<Case> cases = {
        {"a chunk whose answer never reached the state file",
         [&](const wbclient::UploadCheckpoint& saved) {
             wbclient::Request patch{.method = "PATCH", .url = saved.location, .body = "in flight"};
             patch.headers.add("Content-Type", "application/octet-stream");
             REQUIRE(by_hand.http().perform(patch).status == 202);
         },
         "cannot resume: GET " + registry->url() + "/v2/refused/blobs/uploads/",
         "404 Not Found, BLOB_UPLOAD_INVALID (blob upload invalid) (its _state no longer matches: a chunk was in "
         "flight when the upload stopped, or the registry's http.secret changed); start a new upload"},
        {"a cancelled session",
         [&](const wbclient::UploadCheckpoint& saved) {
             REQUIRE(by_hand.http().perform({.method = "DELETE", .url = saved.location}).status == 204);
         },
         "cannot resume: GET " + registry->url() + "/v2/refused/blobs/uploads/",
         "404 Not Found, BLOB_UPLOAD_UNKNOWN (blob upload unknown to registry) (the upload was cancelled, finished "
         "or purged); start a new upload"},
        {"a file that changed",
         [&](const wbclient::UploadCheckpoint&) { std::ofstream(workspace.path() / "data.bin", std::ios::app) << "more"; },
         (workspace.path() / "data.bin").string(),
         " changed since the upload began (3077 bytes then, 3081 now); start a new upload"},
    };
    for (const auto& c : cases) {
        INFO(c.name);
        const ChapterRun first =
            run_chapter(program, {"--chunk-size", "1K", "--stop-after", "1", "data.bin", target}, workspace);
        REQUIRE(first.result.exit_code == 0);
        const auto saved = wbclient::UploadCheckpoint::load(state_file);
        const std::string before = harness::read_whole_file(state_file);
        c.meanwhile(saved);
        const ChapterRun resumed = run_chapter(program, {"--resume", "data.bin.upload.json"}, workspace);
        INFO(resumed.result.out << resumed.result.err);
        CHECK(resumed.result.exit_code == 1);
        CHECK_FALSE(resumed.result.timed_out);
        CHECK(is_one_line(resumed.result.err));
        CHECK_THAT(resumed.result.err, Catch::StartsWith(program + ": " + c.begins) && Catch::Contains(c.expected));
        // Nothing written: the state file is as it was, nothing sent, nothing stored.
        CHECK(harness::read_whole_file(state_file) == before);
        CHECK(leftovers(workspace.path()) == std::set<std::string>{"data.bin.upload.json"});
        for (const auto& e : resumed.transcript) CHECK(e.method == "GET");
    }
}

TEST_CASE("chapter 08: a registry that follows the spec (416), then fails mid-upload (500)", "[chapter08]") {
    Workspace workspace("chapter08-spec");
    make_file(workspace.path() / "data.bin", 3000, 5);
    struct Counters {
        std::mutex mutex;
        int posts = 0;
        int status_gets = 0;
    };
    auto counters = std::make_shared<Counters>();
    ScriptedServer registry([counters](const std::string& method, const std::string& target) {
        std::lock_guard lock(counters->mutex);
        const std::string uploads = "/v2/r/blobs/uploads/";
        const auto at = [&](unsigned status, const std::string& session, const std::string& range) {
            return ScriptedResponse{.status = status, .headers = {{"Location", uploads + session}, {"Range", range}}};
        };
        const auto error = [](unsigned status, const std::string& code) {
            return ScriptedResponse{.status = status,
                                    .headers = {{"Content-Type", "application/json"}},
                                    .body = R"({"errors":[{"code":")" + code + R"(","message":"scripted"}]})"};
        };
        if (method == "POST" && target == uploads) return at(202, counters->posts++ == 0 ? "demo?at=0" : "main?at=0", "0-0");
        if (method == "PATCH" && target == uploads + "demo?at=0") return at(202, "demo?at=10", "0-9");
        if (method == "PATCH" && target == uploads + "demo?at=10") return at(416, "demo?at=10", "0-9");
        if (method == "GET" && target == uploads + "demo?at=10")
            return counters->status_gets++ == 0 ? at(204, "demo?at=10", "0-9") : error(404, "BLOB_UPLOAD_UNKNOWN");
        if (method == "DELETE" && target == uploads + "demo?at=10") return ScriptedResponse{.status = 204};
        if (method == "PATCH" && target == uploads + "main?at=0") return at(202, "main?at=1024", "0-1023");
        if (method == "PATCH" && target == uploads + "main?at=1024") return error(500, "UNKNOWN");
        return error(404, "BLOB_UPLOAD_INVALID");
    });
    const ChapterRun run = run_chapter(program, {"--chunk-size", "1K", "data.bin", registry.host_port() + "/r"}, workspace);
    INFO(run.result.out << run.result.err);
    // Relative Locations are followed too; the out-of-order chunk is refused, as the spec says.
    const std::string uploads = "/v2/r/blobs/uploads/";
    CHECK(registry.requests() ==
          std::vector<std::string>{"POST " + uploads, "PATCH " + uploads + "demo?at=0", "GET " + uploads + "demo?at=0",
                                   "PATCH " + uploads + "demo?at=10", "GET " + uploads + "demo?at=10",
                                   "DELETE " + uploads + "demo?at=10", "GET " + uploads + "demo?at=10",
                                   "POST " + uploads, "PATCH " + uploads + "main?at=0",
                                   "PATCH " + uploads + "main?at=1024"});
    CHECK_THAT(run.result.out, Catch::Contains("A chunk claiming 100-109: 416, as the spec says; held: 0-9"));
    CHECK(run.result.exit_code == 1);
    CHECK(is_one_line(run.result.err));
    CHECK_THAT(run.result.err, Catch::StartsWith(program + ": PATCH http://" + registry.host_port() + uploads +
                                                 "main?at=1024: 500 Internal Server Error, UNKNOWN (scripted)"));
    // The state file is whole, and remembers the one chunk that was acknowledged.
    const auto saved = wbclient::UploadCheckpoint::load(workspace.path() / "data.bin.upload.json");
    CHECK(saved.acknowledged == 1024);
    CHECK(saved.location == "http://" + registry.host_port() + uploads + "main?at=1024");
    CHECK(leftovers(workspace.path()) == std::set<std::string>{"data.bin.upload.json"});
}

TEST_CASE("chapter 08: bad input fails in one line, before anything is written or sent", "[chapter08]") {
    Workspace workspace("chapter08-bad");
    auto registry = start_registry({.role = "registry"}, workspace.path());
    const std::string target = registry->host_port() + "/bad";
    const std::string data = harness::read_whole_file(make_file(workspace.path() / "data.bin", 3000, 6));
    fs::create_directory(workspace.path() / "a-folder");
    ScriptedServer broken([](const std::string&, const std::string&) {
        return ScriptedResponse{.status = 500,
                                .headers = {{"Content-Type", "application/json"}},
                                .body = R"({"errors":[{"code":"UNKNOWN","message":"storage is on fire"}]})"};
    });
    const std::string nobody = "127.0.0.1:" + std::to_string(free_loopback_port());

    struct Case {
        std::vector<std::string> args;
        std::string expected;
    };
    const std::vector<Case> cases = {
        {{"missing.bin", target}, "cannot read missing.bin: No such file or directory"},
        {{"a-folder", target}, "cannot read a-folder: not a regular file"},
        {{"--chunk-size", "0", "data.bin", target}, "chunk size must be from 1 byte to 256M, not 0"},
        {{"--chunk-size", "300M", "data.bin", target}, "chunk size must be from 1 byte to 256M, not 300M"},
        {{"--chunk-size", "1T", "data.bin", target}, "'1T' is not a byte count (unknown unit 'T'; use K, M or G)"},
        {{"--chunk-size", "99999999999999999999", "data.bin", target}, "is not a byte count (too large)"},
        {{"--chunk-size", "17179869184G", "data.bin", target}, "is not a byte count (too large)"},
        {{"--chunk-size", "-1", "data.bin", target}, "'-1' is not a byte count (expected digits"},
        {{"--chunk-size", "lots", "data.bin", target}, "'lots' is not a byte count (expected digits"},
        {{"--stop-after", "0", "data.bin", target}, "--stop-after needs at least 1 chunk"},
        {{"data.bin", broken.host_port() + "/bad"}, "500 Internal Server Error, UNKNOWN (storage is on fire)"},
        {{"data.bin", nobody + "/bad"}, "Couldn't connect to server"},
        {{"--resume", "missing.upload.json"}, "cannot read state file missing.upload.json: No such file or directory"},
        {{"--resume", "data.bin"}, "state file data.bin is not an upload checkpoint: not a JSON object"},
        {{"--resume", "x.upload.json", "data.bin"}, "unexpected argument 'data.bin'"},
        {{"--frobnicate", "data.bin"}, "unexpected argument '--frobnicate'"},
        {{"data.bin", target, "extra"}, "unexpected argument 'extra'"},
    };
    for (const auto& c : cases) {
        const ChapterRun run = run_chapter(program, c.args, workspace);
        INFO(c.args[0] << " " << c.args[1] << ": " << run.result.err);
        check_refused(program, run.result, c.expected);
        CHECK(leftovers(workspace.path()).empty());
        CHECK(harness::read_whole_file(workspace.path() / "data.bin") == data);
    }
    // Every case stopped before it asked the registry anything.
    CHECK(by_the_program(registry->access_log()).empty());

    // A state file that is JSON but not a checkpoint, or one that claims more than the file.
    std::ofstream(workspace.path() / "odd.upload.json") << R"({"registry": "x"})";
    const ChapterRun odd = run_chapter(program, {"--resume", "odd.upload.json"}, workspace);
    CHECK(odd.result.exit_code == 1);
    CHECK(is_one_line(odd.result.err));
    CHECK_THAT(odd.result.err, Catch::Contains("state file odd.upload.json is not an upload checkpoint: key 'repository' not found"));
}

TEST_CASE("chapter 08: the progress bar draws on a terminal and stays silent elsewhere", "[chapter08]") {
    int master = -1, terminal = -1;
    REQUIRE(::openpty(&master, &terminal, nullptr, nullptr, nullptr) == 0);
    {
        wbclient::ProgressBar bar(4 * 1024 * 1024, 1024 * 1024, terminal);
        CHECK(bar.enabled());
        bar.update(2 * 1024 * 1024);
        std::this_thread::sleep_for(std::chrono::milliseconds(150));
        bar.update(4 * 1024 * 1024);
    }
    ::fcntl(master, F_SETFL, O_NONBLOCK);
    std::string drawn;
    char buffer[4096];
    for (ssize_t n; (n = ::read(master, buffer, sizeof buffer)) > 0;) drawn.append(buffer, static_cast<std::size_t>(n));
    ::close(master);
    ::close(terminal);
    CHECK_THAT(drawn, Catch::StartsWith("\r  2.0 MiB / 4.0 MiB [===============>              ]  50%  ") &&
                          Catch::Contains("\r  4.0 MiB / 4.0 MiB [==============================] 100%  ") &&
                          Catch::Contains(" MiB/s\x1b[K"));

    int pipe_ends[2];
    REQUIRE(::pipe(pipe_ends) == 0);
    {
        wbclient::ProgressBar quiet(100, 0, pipe_ends[1]);
        CHECK_FALSE(quiet.enabled());
        quiet.update(50);
        quiet.update(100);
    }
    ::close(pipe_ends[1]);
    CHECK(::read(pipe_ends[0], buffer, sizeof buffer) == 0);
    ::close(pipe_ends[0]);
    CHECK(wbclient::ProgressBar::human(17) == "17 bytes");
    CHECK(wbclient::ProgressBar::human(512 * 1024) == "512.0 KiB");

    // The program, with stderr on a terminal (script(1) gives it one), draws the bar there.
    Workspace workspace("chapter08-terminal");
    auto registry = start_registry({.role = "registry"}, workspace.path());
    make_file(workspace.path() / "data.bin", 3 * 1024 * 1024, 7);
    const std::string command = chapter_program(program).string() + " --chunk-size 512K data.bin " +
                                registry->host_port() + "/terminal";
    // script(1) copies its own stdin to the terminal, so it needs one that is open.
    const RunResult run = run_program({"sh", "-c", "script -qefc '" + command + "' /dev/null < /dev/null"},
                                      {.working_directory = workspace.path()});
    INFO(run.out << run.err);
    CHECK(run.exit_code == 0);
    CHECK_THAT(run.out, Catch::Contains(" / 3.0 MiB [") && Catch::Contains("MiB/s\x1b[K") &&
                            Catch::Contains("Finished: sha256:"));
}
