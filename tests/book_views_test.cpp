// book.views: given conversations made up in the test, the book's generators (book/views) do
// what the pages and the build rely on: a changed exchange fails the golden comparison with a
// diff naming it, parties may interleave but not reorder, repeats are found, paths templated,
// replays follow upload Locations, and a claim that no longer holds is caught.
#include "exchange_claims.hpp"
#include "curl_replay.hpp"
#include "golden_conversation.hpp"
#include "path_template.hpp"
#include "repeated_exchanges.hpp"
#include "sequence_diagram.hpp"

#include <catch2/catch.hpp>

#include <fstream>

#include <unistd.h>

namespace fs = std::filesystem;

namespace {

const std::string layer = "sha256:" + std::string(64, 'a');
const std::string config = "sha256:" + std::string(64, 'b');

book::RecordedExchange exchange(int number, const std::string& host, const std::string& method,
                                const std::string& uri, long status) {
    book::RecordedExchange recorded;
    recorded.number = number;
    recorded.client.host = host;
    recorded.client.method = method;
    recorded.client.uri = uri;
    recorded.client.status = status;
    recorded.raw_url = "http://" + host + uri;
    return recorded;
}

// Chapter 01 in small: the upstream's manifest, then per blob HEAD, upstream GET, POST, PUT.
book::Conversation rehost() {
    book::Conversation conversation;
    conversation.program = "01_rehost_busybox";
    int n = 0;
    auto add = [&](const std::string& host, const std::string& method, const std::string& uri, long status) {
        conversation.exchanges.push_back(exchange(++n, host, method, uri, status));
    };
    add("localhost:5001", "GET", "/v2/library/busybox/manifests/latest", 200);
    for (const std::string& digest : {config, layer}) {
        add("localhost:5000", "HEAD", "/v2/my-busybox/blobs/" + digest, 404);
        add("localhost:5001", "GET", "/v2/library/busybox/blobs/" + digest, 200);
        add("localhost:5000", "POST", "/v2/my-busybox/blobs/uploads/", 202);
        add("localhost:5000", "PUT", "/v2/my-busybox/blobs/uploads/<uuid>?_state=<state>&digest=" + digest, 201);
    }
    add("localhost:5000", "PUT", "/v2/my-busybox/manifests/latest", 201);
    return conversation;
}

}  // namespace

TEST_CASE("book views: a conversation matches its own golden file", "[book]") {
    const book::Conversation conversation = rehost();
    const std::string golden = book::golden_file_text(conversation, false);
    CHECK_THAT(golden, Catch::Contains("registry HEAD /v2/my-busybox/blobs/<digest> 404\n"));
    CHECK(book::compare_with_golden(conversation, golden).empty());
}

TEST_CASE("book views: a changed status fails the comparison, naming the exchange", "[book]") {
    const std::string golden = book::golden_file_text(rehost(), false);
    book::Conversation changed = rehost();
    changed.exchanges[5].client.status = 200;  // exchange #6: the layer's HEAD now finds it
    const std::string report = book::compare_with_golden(changed, golden);
    CHECK_THAT(report, Catch::Contains("what the registry saw changed"));
    CHECK_THAT(report, Catch::Contains("exchange #6"));
    CHECK_THAT(report, Catch::Contains("registry HEAD /v2/my-busybox/blobs/<digest> 200"));
    CHECK_THAT(report, Catch::Contains("expected, not recorded: registry HEAD /v2/my-busybox/blobs/<digest> 404"));
    CHECK_THAT(report, !Catch::Contains("upstream"));
}

TEST_CASE("book views: parties may interleave differently, but each keeps its order", "[book]") {
    const std::string golden = book::golden_file_text(rehost(), false);
    book::Conversation interleaved = rehost();
    // The upstream GET finishing after the POST it ran beside: a race, not a change.
    std::swap(interleaved.exchanges[2], interleaved.exchanges[3]);
    CHECK(book::compare_with_golden(interleaved, golden).empty());

    book::Conversation reordered = rehost();
    std::swap(reordered.exchanges[3], reordered.exchanges[4]);  // PUT before its POST
    CHECK_FALSE(book::compare_with_golden(reordered, golden).empty());
    // ... unless the file says the run's requests race.
    CHECK(book::compare_with_golden(reordered, book::golden_file_text(rehost(), true)).empty());
    CHECK(book::compares_in_any_order(book::golden_file_text(rehost(), true)));
}

TEST_CASE("book views: repeated stretches are found, in any order within a copy", "[book]") {
    const auto stretches = book::find_repeats({"A", "B", "C", "C", "B", "B", "C", "D"});
    REQUIRE(stretches.size() == 3);
    CHECK((stretches[0].first == 0 && stretches[0].length == 1 && stretches[0].times == 1));
    CHECK((stretches[1].first == 1 && stretches[1].length == 2 && stretches[1].times == 3));
    CHECK((stretches[2].first == 7 && stretches[2].times == 1));

    const std::string diagram = book::sequence_diagram(rehost(), "chapter01-x");
    CHECK_THAT(diagram, Catch::Contains("\u00d7 2 blobs: the next 4 requests repeat"));
    CHECK_THAT(diagram, Catch::Contains("HEAD /v2/my-busybox/blobs/<digest>  \u2192 404"));
    CHECK_THAT(diagram, Catch::Contains("URL=\"#chapter01-x10\""));

    // One HEAD per tag is one request repeated, whatever the tag.
    book::Conversation tags;
    for (const char* tag : {"v1", "edge", "latest"})
        tags.exchanges.push_back(exchange(static_cast<int>(tags.exchanges.size()) + 1, "localhost:5000", "HEAD",
                                          std::string("/v2/tour/alpha/manifests/") + tag, 200));
    CHECK_THAT(book::sequence_diagram(tags, "chapter04-x"),
               Catch::Contains("\u00d7 3 manifests: the next request repeats") &&
                   Catch::Contains("HEAD /v2/tour/alpha/manifests/<reference>  \u2192 200  (#1 \u2026)"));
}

TEST_CASE("book views: paths are templated and shortened", "[book]") {
    CHECK(book::path_template("/v2/a/blobs/" + layer + "?x") == "/v2/a/blobs/<digest>?x");
    CHECK(book::shortened_path("/v2/a/blobs/" + layer) == "/v2/a/blobs/sha256:aaaaaaaa\u2026");
    CHECK(book::path_template("/token?scope=repository%3Aa%3Apush%2Cpull") == "/token?scope=repository%3Aa%3Apull%2Cpush");
    CHECK(book::path_template("/v2/" + std::string(300, 'a') + "/tags/list") == "/v2/<300 characters>/tags/list");
    CHECK(book::path_template("/v2/a/manifests/sha256-" + std::string(64, 'b')) == "/v2/a/manifests/sha256-<hex>");
    CHECK(book::shortened_path("/v2/a/manifests/sha256-" + std::string(64, 'b')) ==
          "/v2/a/manifests/sha256-bbbbbbbb\u2026");
    CHECK(book::digests_in("x " + layer + " " + config + " " + layer) == std::vector<std::string>{layer, config});
}

TEST_CASE("book views: the replay follows the upload's Location and sends bodies from files", "[book]") {
    book::Conversation conversation;
    conversation.program = "99_test";
    auto post = exchange(1, "localhost:5000", "POST", "/v2/a/blobs/uploads/", 202);
    post.raw_url = "http://127.0.0.1:40000/v2/a/blobs/uploads/";
    post.raw_response_headers = {{"Location", "http://127.0.0.1:40000/v2/a/blobs/uploads/u1?_state=s1"}};
    auto put = exchange(2, "localhost:5000", "PUT", "/v2/a/blobs/uploads/<uuid>?_state=<state>&digest=" + layer, 201);
    put.raw_url = "http://127.0.0.1:40000/v2/a/blobs/uploads/u1?_state=s1&digest=" + layer;
    put.client.bytes_sent = 10;
    put.client.request_headers = {{"Authorization", "Bearer <redacted>"}, {"User-Agent", "x"}};
    conversation.exchanges = {post, put};
    const auto commands = book::replay_commands(conversation, {{"127.0.0.1:40000", "localhost:5000"}});
    REQUIRE(commands.size() == 2);
    CHECK(commands[0].command ==
          "location=$(curl -sS -X POST -o /dev/null -w '%header{location}' 'http://localhost:5000/v2/a/blobs/uploads/')");
    CHECK(commands[1].command == "curl -sS -X PUT -H \"Authorization: $REGISTRY_AUTH\" -T bodies/" + layer +
                                     " \"${location}&digest=" + layer + "\"");
    CHECK_THAT(book::replay_script(conversation, commands), Catch::StartsWith("#!/usr/bin/env bash"));
    // No GET fetched that body first: the comment says the reader must supply it.
    CHECK_THAT(commands[1].comment, Catch::Contains("10-byte body is one the program made: put it in bodies/" + layer));
    CHECK_THAT(commands[0].comment, !Catch::Contains("body"));
}

TEST_CASE("book views: a claim in the prose is checked against the recording", "[book]") {
    const fs::path pages = fs::temp_directory_path() / ("book-views-claims-" + std::to_string(::getpid()));
    fs::create_directories(pages);
    std::ofstream(pages / "01-test.md") << "intro\nThe HEAD says no (\\exchange{01,2,HEAD /v2/my-busybox/blobs/<digest> 404}),\n"
                                           "the POST opens (\\exchange{01,4,POST /v2/my-busybox/blobs/uploads/ 201}).\n";
    const auto claims = book::find_claims(pages);
    fs::remove_all(pages);
    REQUIRE(claims.size() == 2);
    CHECK((claims[0].line == 2 && claims[0].number == 2 && claims[0].chapter == "01"));
    const std::string report = book::check_claims(claims, {{"01", rehost()}});
    CHECK_THAT(report, Catch::Contains("01-test.md:3 points at exchange 4 of chapter 01"));
    CHECK_THAT(report, Catch::Contains("which is now \"POST /v2/my-busybox/blobs/uploads/ 202\""));
    CHECK_THAT(report, !Catch::Contains("01-test.md:2"));
    CHECK_THAT(book::check_claims(claims, {}), Catch::Contains("was not recorded"));
}

TEST_CASE("book views: a claim about a header or a log line is checked too", "[book]") {
    book::Conversation conversation = rehost();
    conversation.exchanges[9].client.response_headers = {{"Docker-Content-Digest", layer}};
    conversation.exchanges[9].logged = book::LoggedRequest{.duration = "1 ms", .messages = {"response completed"}};
    const auto claim = [](const std::string& says) {
        return std::vector<book::ExchangeClaim>{{"01-test.md", 7, "01", 10, says}};
    };
    const std::string put = "PUT /v2/my-busybox/manifests/latest 201";
    CHECK(book::check_claims(claim(put + "; header: Docker-Content-Digest"), {{"01", conversation}}).empty());
    CHECK(book::check_claims(claim(put + "; header: docker-content-digest: " + layer), {{"01", conversation}}).empty());
    CHECK(book::check_claims(claim(put + "; logged: response completed"), {{"01", conversation}}).empty());
    CHECK_THAT(book::check_claims(claim(put + "; header: Docker-Content-Digest: " + config), {{"01", conversation}}),
               Catch::Contains("has no \"header: Docker-Content-Digest: " + config));
    CHECK_THAT(book::check_claims(claim(put + "; header: Etag"), {{"01", conversation}}), Catch::Contains("01-test.md:7"));
    CHECK_THAT(book::check_claims(claim(put + "; logged: with error"), {{"01", conversation}}),
               Catch::Contains("has no \"logged: with error\""));
}

TEST_CASE("book views: a run's printed exchanges are found whatever protocol they spoke", "[book]") {
    // What a program prints with WORKBOOK_VERBOSE: an HTTP/1.1 exchange, one over HTTP/2 (no
    // reason phrase), and one that got no answer (its request line names no protocol).
    const fs::path dir = fs::temp_directory_path() / ("book-views-protocols-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    const auto line = [](const std::string& url, long status, const std::string& version) {
        return R"({"method":"GET","url":")" + url + R"(","request_headers":[],"status":)" + std::to_string(status) +
               R"(,"reason":"","response_headers":[],"bytes_sent":0,"bytes_received":0,"new_connections":1,)"
               R"("body_digest":"","http_version":")" + version + "\"}\n";
    };
    std::ofstream(dir / "10_x.transcript.jsonl") << line("http://localhost:5000/v2/", 200, "HTTP/1.1")
                                                 << line("https://localhost:5443/v2/", 200, "HTTP/2")
                                                 << line("https://localhost:5000/v2/", 0, "");
    std::ofstream(dir / "10_x.out") << "plain first\n> GET /v2/ HTTP/1.1\n< HTTP/1.1 200 OK\n< [2 bytes of body]\n\n"
                                    << "then TLS\n> GET /v2/ HTTP/2\n< HTTP/2 200\n< [2 bytes of body]\n\n"
                                    << "then nothing\n> GET /v2/\n< (no response)\n\ndone\n";
    const book::Conversation conversation = book::read_conversation(dir, "10_x", {});
    fs::remove_all(dir);
    REQUIRE(conversation.exchanges.size() == 3);
    CHECK(conversation.exchanges[0].client.http_version == "HTTP/1.1");
    CHECK(conversation.exchanges[1].client.http_version == "HTTP/2");
    CHECK(conversation.exchanges[2].client.http_version.empty());
    // Each block belongs to its exchange, with the narration printed before it.
    CHECK(conversation.exchanges[0].narration == std::vector<std::string>{"plain first"});
    CHECK(conversation.exchanges[1].shown == "> GET /v2/ HTTP/2\n< HTTP/2 200\n< [2 bytes of body]\n");
    CHECK(conversation.exchanges[1].narration == std::vector<std::string>{"then TLS"});
    CHECK(conversation.exchanges[2].shown == "> GET /v2/\n< (no response)\n");
    CHECK(conversation.closing_narration == std::vector<std::string>{"done"});
}
