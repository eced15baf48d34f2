// Chapter 00: given a fresh registry, when the program pings it, then both sides saw one
// GET /v2/ answered 200 with the API version header and a "{}" body.
#include "chapter_run.hpp"
#include "registry_instance.hpp"
#include "scripted_server.hpp"
#include "test_support.hpp"

#include <catch2/catch.hpp>

using namespace harness;

TEST_CASE("chapter 00: GET /v2/ answers 200, registry/2.0 and {}", "[chapter00]") {
    Workspace workspace("chapter00");
    auto registry = start_registry({}, workspace.path());

    const ChapterRun run = run_chapter("00_run_a_registry", {registry->host_port()}, workspace);
    INFO(run.result.out << run.result.err);
    REQUIRE(run.result.exit_code == 0);
    CHECK_THAT(run.result.out, Catch::Contains("answered 200 OK"));
    CHECK_THAT(run.result.out, Catch::Contains("Docker-Distribution-Api-Version: registry/2.0"));

    // The client's view: exactly one exchange.
    REQUIRE(run.transcript.size() == 1);
    const ObservedExchange& ping = run.transcript.front();
    CHECK(ping.method == "GET");
    CHECK(ping.uri == "/v2/");
    CHECK(ping.status == 200);
    CHECK(ping.response_header("Docker-Distribution-Api-Version") == "registry/2.0");
    CHECK(ping.response_header("Content-Type") == "application/json; charset=utf-8");
    CHECK(ping.bytes_received == 2);
    CHECK_THAT(run.result.out, Catch::Contains("Body: {}"));

    // The server's view: the registry logged the same request, from our user agent.
    const auto seen = select(registry->access_log(), "GET", "/v2/");
    const auto ours = std::count_if(seen.begin(), seen.end(), [](const ObservedExchange& e) {
        return e.uri == "/v2/" && e.status == 200 && e.bytes_received == 2 &&
               e.user_agent == "registry-workbook/1.0";
    });
    CHECK(ours == 1);
}

TEST_CASE("chapter 00: the registry comes from WORKBOOK_REGISTRY when not on the command line",
          "[chapter00]") {
    Workspace workspace("chapter00-env");
    auto registry = start_registry({}, workspace.path());
    const ChapterRun run = run_chapter("00_run_a_registry", {}, workspace,
                                       {{"WORKBOOK_REGISTRY", registry->host_port()}});
    REQUIRE(run.result.exit_code == 0);
    REQUIRE(run.transcript.size() == 1);
    CHECK(run.transcript.front().host == registry->host_port());
}

TEST_CASE("chapter 00: bad input gets a one-line error and a non-zero exit", "[chapter00]") {
    Workspace workspace("chapter00-bad");
    ScriptedServer broken([](const std::string&, const std::string&) {
        return ScriptedResponse{.status = 500, .body = "internal trouble\n"};
    });
    ScriptedServer not_a_registry([](const std::string&, const std::string&) {
        return ScriptedResponse{.status = 200, .body = "<html>hello</html>"};
    });
    const std::string nobody_listens = "127.0.0.1:" + std::to_string(free_loopback_port());

    struct Case {
        std::string registry;
        std::string expected;
    };
    const std::vector<Case> cases = {
        {nobody_listens, "Couldn't connect to server"},
        {"localhost:99999", "port '99999' is not a number from 1 to 65535"},
        {"ftp://localhost:5000", "only http:// and https:// are supported"},
        {"", "expected host:port"},
        {broken.host_port(), "500 Internal Server Error: internal trouble"},
        {not_a_registry.host_port(), "it is not a v2 registry"},
    };
    for (const auto& c : cases) {
        const ChapterRun run = run_chapter("00_run_a_registry", {c.registry}, workspace);
        INFO("registry '" << c.registry << "': " << run.result.err);
        test_support::check_refused("00_run_a_registry", run.result, c.expected);
    }
}
