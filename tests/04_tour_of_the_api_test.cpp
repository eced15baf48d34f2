// Chapter 04: given a registry holding a few images (and a repository with blobs only), when
// the program lists everything and provokes every error, then the catalog was read page by
// page along its Link headers, the table names every tag with the digest the test pushed, and
// each error came back with the status and code the chapter promises, on both sides.
#include "busybox_image.hpp"
#include "chapter_run.hpp"
#include "registry_instance.hpp"
#include "scripted_server.hpp"
#include "test_support.hpp"

#include "wbclient/distribution/registry_client.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <sstream>

using namespace harness;
namespace fs = std::filesystem;

namespace {

struct TableRow {
    std::string digest;
    std::uint64_t size = 0;
    std::string type;
    friend bool operator==(const TableRow&, const TableRow&) = default;
};

// The rows under "Every image, tags sorted:", keyed by repository and tag, in printed order.
std::vector<std::pair<std::pair<std::string, std::string>, TableRow>> table_of(const std::string& out) {
    std::vector<std::pair<std::pair<std::string, std::string>, TableRow>> rows;
    std::istringstream lines(out.substr(out.find("Every image, tags sorted:")));
    std::string line;
    std::getline(lines, line);  // the title
    std::getline(lines, line);  // the headings
    REQUIRE(line.starts_with("REPOSITORY"));
    while (std::getline(lines, line) && !line.empty()) {
        std::istringstream fields(line);
        std::string repository, tag;
        TableRow row;
        fields >> repository >> tag >> row.digest >> row.size >> row.type;
        rows.push_back({{repository, tag}, row});
    }
    return rows;
}

// What the program printed after "  <repository>:" in the tags section.
std::string printed_tags(const std::string& out, const std::string& repository) {
    const auto section = out.find("Tags, in the order tags/list sent them:");
    const auto at = out.find("\n  " + repository + ":", section);
    if (at == std::string::npos) return "<not printed>";
    const auto start = at + 4 + repository.size();
    return out.substr(start, out.find('\n', start) - start);
}

std::string joined(const std::vector<std::string>& words) {
    std::string text;
    for (const auto& word : words) text += " " + word;
    return text;
}

// The registry logs err.code in words: BLOB_UNKNOWN is "blob unknown".
std::string log_code(std::string code) {
    std::transform(code.begin(), code.end(), code.begin(), [](char c) {
        return c == '_' ? ' ' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    });
    return code;
}

const ObservedExchange* find(const std::vector<ObservedExchange>& exchanges, const std::string& method,
                             const std::string& uri_prefix) {
    for (const auto& e : exchanges)
        if (e.method == method && e.uri.starts_with(uri_prefix)) return &e;
    return nullptr;
}

const std::string zeros = "sha256:" + std::string(64, '0');

}  // namespace

TEST_CASE("chapter 04: list every image, page by page, then provoke every error", "[chapter04]") {
    Workspace workspace("chapter04");
    auto upstream = start_registry({.role = "upstream"}, workspace.path());
    auto local = start_registry({.role = "registry"}, workspace.path());

    // What the book's earlier chapters may have left, plus a repository with a blob only.
    wbclient::RegistryClient seeder(local->host_port());
    const wbclient::Digest busybox = seed_busybox(seeder, "my-busybox", "latest");
    REQUIRE(seed_busybox(seeder, "my-busybox", "oci") == busybox);
    REQUIRE(seed_busybox(seeder, "hello-workbook", "latest") == busybox);
    REQUIRE(seed_busybox(seeder, "library/busybox", "1.36") == busybox);
    seeder.push_blob("blobs-only", std::string("a blob and no manifest"));
    const std::uint64_t busybox_size = seeder.get_manifest("my-busybox", "latest").bytes.size();

    const std::vector<std::string> args{local->host_port(), upstream->host_port()};
    const ChapterRun run = run_chapter("04_tour_of_the_api", args, workspace);
    INFO(run.result.out << run.result.err << "client saw:\n" << summarize(run.transcript));
    REQUIRE(run.result.exit_code == 0);
    CHECK(run.result.err.empty());
    CHECK_THAT(run.result.out, Catch::Contains("All 12 answers are the ones registry 2.8.2 gives."));

    const std::vector<std::string> repositories = {"blobs-only", "hello-workbook", "library/busybox", "my-busybox",
                                                   "tour/alpha", "tour/beta", "tour/gamma"};
    const std::string local_host = local->host_port();
    auto to_local = [&](const std::vector<ObservedExchange>& exchanges) {
        std::vector<ObservedExchange> selected;
        for (const auto& e : exchanges)
            if (e.host == local_host) selected.push_back(e);
        return selected;
    };

    SECTION("the catalog: GET ?n=2, then each Link's target, until a page comes without one") {
        std::vector<ObservedExchange> pages;
        for (const auto& e : select(to_local(run.transcript), "GET", "/v2/_catalog"))
            if (e.uri != "/v2/_catalog?n=1001") pages.push_back(e);
        INFO(summarize(pages));
        REQUIRE(pages.size() == 4);  // 7 repositories, 2 per page
        CHECK(pages.front().uri == "/v2/_catalog?n=2");
        for (std::size_t i = 0; i < pages.size(); ++i) {
            CHECK(pages[i].status == 200);
            const auto link = pages[i].response_header("Link");
            if (i + 1 == pages.size()) {
                CHECK_FALSE(link);
                continue;
            }
            // The last repository of the page, '/' escaped as %2F.
            std::string last = repositories[2 * i + 1];
            if (const auto slash = last.find('/'); slash != std::string::npos) last.replace(slash, 1, "%2F");
            const std::string target = "/v2/_catalog?last=" + last + "&n=2";
            CHECK(link == "<" + target + ">; rel=\"next\"");
            CHECK(pages[i + 1].uri == target);
        }
        // The registry served the same four pages.
        std::vector<std::string> served;
        for (const auto& e : select(local->access_log(), "GET", "/v2/_catalog"))
            if (e.user_agent != harness_user_agent && e.status == 200) served.push_back(e.uri);
        std::vector<std::string> asked;
        for (const auto& e : pages) asked.push_back(e.uri);
        CHECK(served == asked);
        CHECK_THAT(run.result.out, Catch::Contains("Link: (none: the last page)"));
    }

    SECTION("the table: every tag, sorted, with the digest the test pushed; blobs-only has none") {
        const auto rows = table_of(run.result.out);
        std::vector<std::pair<std::string, std::string>> keys;
        for (const auto& [key, row] : rows) keys.push_back(key);
        const std::vector<std::pair<std::string, std::string>> expected = {
            {"hello-workbook", "latest"}, {"library/busybox", "1.36"}, {"my-busybox", "latest"},
            {"my-busybox", "oci"},        {"tour/alpha", "edge"},      {"tour/alpha", "latest"},
            {"tour/alpha", "stable"},     {"tour/alpha", "v1"},        {"tour/alpha", "v10"},
            {"tour/alpha", "v2"},         {"tour/beta", "latest"},     {"tour/gamma", "latest"}};
        CHECK(keys == expected);
        const wbclient::Digest tour = seeder.get_manifest("tour/alpha", "latest").digest;
        for (const auto& [key, row] : rows) {
            INFO(key.first << ":" << key.second);
            if (key.first.starts_with("tour/")) {
                CHECK(row.digest == tour.str());
                CHECK(row.type == "oci.image.manifest.v1+json");
                CHECK(seeder.get_manifest(key.first, key.second).digest == tour);
            } else {
                CHECK(row.digest == busybox.str());
                CHECK(row.size == busybox_size);
                CHECK(row.type == "docker.distribution.manifest.v2+json");
            }
        }
        CHECK(printed_tags(run.result.out, "blobs-only") == " (none: only blobs, or every tag deleted)");
        // One HEAD per row, each answered 200 with the digest in the table.
        for (const auto& [key, row] : rows) {
            const auto head = find(run.transcript, "HEAD", "/v2/" + key.first + "/manifests/" + key.second);
            REQUIRE(head);
            CHECK(head->status == 200);
            CHECK(head->response_header("Docker-Content-Digest") == row.digest);
            CHECK(head->bytes_received == 0);
        }
        CHECK(select(run.transcript, "HEAD").size() == rows.size());
    }

    SECTION("tags/list: unsorted and unpaged in 2.8.2; the program shows them as sent") {
        const std::vector<std::string> as_sent = wbclient::list_tags(seeder, "tour/alpha");
        CHECK(printed_tags(run.result.out, "tour/alpha") == joined(as_sent));
        CHECK(as_sent.size() == 6);
        CHECK_FALSE(std::is_sorted(as_sent.begin(), as_sent.end()));
        // n and last are ignored: asking for one tag after "latest" still gives all six.
        const wbclient::Request paged{.url = seeder.url("tour/alpha", "tags/list?n=1&last=latest")};
        const auto body = nlohmann::json::parse(seeder.http().perform(paged).body);
        CHECK(body["tags"].get<std::vector<std::string>>() == as_sent);
        // The program asked once per repository, and blobs-only answered NAME_UNKNOWN.
        const auto blobs_only = find(run.transcript, "GET", "/v2/blobs-only/tags/list");
        REQUIRE(blobs_only);
        CHECK(blobs_only->status == 404);
        for (const auto& repository : repositories) {
            const auto asked = select(run.transcript, "GET", "/v2/" + repository + "/tags/list");
            CHECK(std::count_if(asked.begin(), asked.end(), [&](const auto& e) {
                      return e.uri == "/v2/" + repository + "/tags/list";
                  }) == 1);
        }
        // The program asked for a page of two after "edge" too, and got all six.
        const auto paged_by_program = find(run.transcript, "GET", "/v2/tour/alpha/tags/list?n=2&last=edge");
        REQUIRE(paged_by_program);
        CHECK(paged_by_program->status == 200);
        nlohmann::json sent = {{"name", "tour/alpha"}, {"tags", as_sent}};
        CHECK_THAT(run.result.out, Catch::Contains("  tour/alpha, asking for n=2 after edge: " + sent.dump() + "\n"));
    }

    SECTION("every error: the status in the transcript, the code in the body and in the log") {
        struct Expected {
            std::string code;
            long status;
            std::string method;
            std::string uri;  // a prefix of the request's path and query
            bool upstream = false;
        };
        const std::vector<Expected> errors = {
            {"BLOB_UNKNOWN", 404, "GET", "/v2/tour/alpha/blobs/" + zeros},
            {"MANIFEST_UNKNOWN", 404, "GET", "/v2/tour/alpha/manifests/no-such-tag"},
            {"NAME_UNKNOWN", 404, "GET", "/v2/tour/no-such-repository/tags/list"},
            {"DIGEST_INVALID", 400, "GET", "/v2/tour/alpha/blobs/sha256:abc"},
            {"MANIFEST_INVALID", 400, "PUT", "/v2/tour/alpha/manifests/broken"},
            {"BLOB_UPLOAD_INVALID", 404, "GET", "/v2/tour/alpha/blobs/uploads/no-such-upload"},
            {"PAGINATION_NUMBER_INVALID", 400, "GET", "/v2/_catalog?n=1001"},
            {"UNSUPPORTED", 405, "DELETE", "/v2/library/busybox/manifests/" + zeros, true},
        };
        const auto local_log = local->access_log();
        const auto upstream_log = upstream->access_log();
        for (const auto& e : errors) {
            INFO(e.code);
            const std::string host = e.upstream ? upstream->host_port() : local_host;
            const auto client_side = find(run.transcript, e.method, e.uri);
            REQUIRE(client_side);
            CHECK(client_side->host == host);
            CHECK(client_side->status == e.status);
            const auto server_side = find(e.upstream ? upstream_log : local_log, e.method, e.uri);
            REQUIRE(server_side);
            CHECK(server_side->status == e.status);
            CHECK(server_side->error_code == log_code(e.code));
            // The program printed the request, the status and the JSON body with its code.
            const auto shown = run.result.out.find("  " + e.code + ": " + e.method + " " + host + e.uri);
            REQUIRE(shown != std::string::npos);
            const auto answer = run.result.out.substr(run.result.out.find('\n', shown) + 1);
            CHECK_THAT(answer.substr(0, answer.find('\n')),
                       Catch::StartsWith("    " + std::to_string(e.status) + " ") &&
                           Catch::Contains("{\"errors\":[{\"code\":\"" + e.code + "\""));
        }

        // The manifest naming a config the registry lacks: the second PUT to .../broken.
        const auto puts = select(run.transcript, "PUT", "/v2/tour/alpha/manifests/broken");
        REQUIRE(puts.size() == 2);
        CHECK(puts[1].status == 400);
        const auto logged_puts = select(local_log, "PUT", "/v2/tour/alpha/manifests/broken");
        REQUIRE(logged_puts.size() == 2);
        CHECK(logged_puts[0].error_code == "manifest invalid");
        CHECK(logged_puts[1].error_code == "manifest blob unknown");
        CHECK_THAT(run.result.out, Catch::Contains("{\"errors\":[{\"code\":\"MANIFEST_BLOB_UNKNOWN\""));

        // An upload opened (202), cancelled (204), then asked about: 404 BLOB_UPLOAD_UNKNOWN.
        const auto uploads = select(to_local(run.transcript), "", "/v2/tour/alpha/blobs/uploads/");
        std::vector<ObservedExchange> session;
        for (const auto& u : uploads)
            if (!u.uri.starts_with("/v2/tour/alpha/blobs/uploads/no-such-upload") && u.method != "PUT")
                session.push_back(u);
        REQUIRE(session.size() >= 3);
        const ObservedExchange& open = session[session.size() - 3];
        const ObservedExchange& cancel = session[session.size() - 2];
        const ObservedExchange& ask = session.back();
        CHECK((open.method == "POST" && open.status == 202));
        CHECK((cancel.method == "DELETE" && cancel.status == 204));
        CHECK((ask.method == "GET" && ask.status == 404));
        CHECK(ask.path() == cancel.path());
        const auto logged_ask = std::find_if(local_log.rbegin(), local_log.rend(), [&](const auto& l) {
            return l.method == "GET" && l.path() == ask.path();
        });
        REQUIRE(logged_ask != local_log.rend());
        CHECK(logged_ask->status == 404);
        CHECK(logged_ask->error_code == "blob upload unknown");
        CHECK_THAT(run.result.out, Catch::Contains("{\"errors\":[{\"code\":\"BLOB_UPLOAD_UNKNOWN\""));

        // A name over 255 characters: 500 UNKNOWN, where the spec has NAME_INVALID. The registry
        // logs why, but writes no "response completed" line for it.
        const std::string long_name = "/v2/" + std::string(256, 'a') + "/tags/list";
        const auto too_long = find(run.transcript, "GET", long_name);
        REQUIRE(too_long);
        CHECK(too_long->status == 500);
        CHECK_THAT(run.result.out, Catch::Contains("  UNKNOWN: GET " + local_host + long_name + "\n"
                                                   "    500 Internal Server Error  {\"errors\":[{\"code\":\"UNKNOWN\""));
        CHECK_FALSE(find(local_log, "GET", long_name));
        CHECK_THAT(local->log(), Catch::Contains("repository name must not be more than 255 characters"));

        // An upper-case name matches no route: a plain-text 404, and no handler logged it.
        const auto plain = find(run.transcript, "GET", "/v2/tour/Alpha/tags/list");
        REQUIRE(plain);
        CHECK(plain->status == 404);
        CHECK(plain->bytes_received == std::string("404 page not found\n").size());
        CHECK_THAT(run.result.out, Catch::Contains("(no code): GET " + local_host + "/v2/tour/Alpha/tags/list\n"
                                                   "    404 Not Found  404 page not found\n"));
        CHECK_FALSE(find(local_log, "GET", "/v2/tour/Alpha/"));
    }

    SECTION("the tour's own pushes: each config upload 201, each manifest PUT the same digest") {
        const auto blob_puts = select(run.transcript, "PUT", "/v2/tour/");
        int configs = 0;
        for (const auto& put : blob_puts) {
            if (put.uri.find("/blobs/uploads/") == std::string::npos) continue;
            ++configs;
            CHECK(put.status == 201);
        }
        CHECK(configs == 3);
        const auto tour = seeder.get_manifest("tour/alpha", "latest").digest.str();
        int manifests = 0;
        for (const auto& put : blob_puts) {
            if (put.uri.find("/manifests/") == std::string::npos || put.uri.ends_with("/broken")) continue;
            ++manifests;
            CHECK(put.status == 201);
            CHECK(put.response_header("Docker-Content-Digest") == tour);
        }
        CHECK(manifests == 8);
    }

    SECTION("the error tour's side effects are harmless") {
        // No tag "broken"; the cancelled upload keeps no data, only a hash state to be purged.
        CHECK(wbclient::list_tags(seeder, "tour/alpha").size() == 6);
        const fs::path uploads = local->storage_root() / "docker/registry/v2/repositories/tour/alpha/_uploads";
        REQUIRE(fs::exists(uploads));
        int sessions = 0;
        for (const auto& upload : fs::directory_iterator(uploads)) {
            ++sessions;
            CHECK_FALSE(fs::exists(upload.path() / "data"));
            CHECK_FALSE(fs::exists(upload.path() / "startedat"));
        }
        CHECK(sessions == 1);
        // The upstream still refuses deletes; nothing was written to it.
        for (const auto& e : upstream->access_log())
            if (e.user_agent != harness_user_agent) CHECK(e.method == "DELETE");
    }
}

TEST_CASE("chapter 04: a second run lists the same images and changes nothing", "[chapter04]") {
    Workspace workspace("chapter04-again");
    auto upstream = start_registry({.role = "upstream"}, workspace.path());
    auto local = start_registry({.role = "registry"}, workspace.path());
    wbclient::RegistryClient seeder(local->host_port());
    seed_busybox(seeder, "my-busybox", "latest");
    const std::vector<std::string> args{local->host_port(), upstream->host_port()};
    const ChapterRun first = run_chapter("04_tour_of_the_api", args, workspace);
    INFO(first.result.out << first.result.err);
    REQUIRE(first.result.exit_code == 0);
    const ChapterRun second = run_chapter("04_tour_of_the_api", args, workspace);
    INFO(second.result.out << second.result.err);
    REQUIRE(second.result.exit_code == 0);
    CHECK(table_of(second.result.out) == table_of(first.result.out));
    CHECK(table_of(second.result.out).size() == 9);  // my-busybox:latest and eight tour tags
    // Pushing the tour again re-tags the same manifest: every PUT answers the same digest.
    const auto first_table = table_of(first.result.out);
    REQUIRE_FALSE(first_table.empty());
    const std::string tour = first_table.back().second.digest;
    for (const auto& put : select(second.transcript, "PUT", "/v2/tour/"))
        if (put.uri.find("/manifests/") != std::string::npos && put.uri.find("broken") == std::string::npos) {
            CHECK(put.status == 201);
            CHECK(put.response_header("Docker-Content-Digest") == tour);
        }
}

TEST_CASE("chapter 04: Link headers, however they are written, and pagination that ends", "[chapter04]") {
    // The Link parser and URL resolution on their own: tests/library_http_test.cpp.
    SECTION("tags: null (every tag deleted) and a repository without manifests are both empty") {
        ScriptedServer registry([](const std::string&, const std::string& target) {
            if (target == "/v2/emptied/tags/list")
                return ScriptedResponse{.body = R"({"name":"emptied","tags":null})"};
            return ScriptedResponse{.status = 404,
                                    .body = R"({"errors":[{"code":"NAME_UNKNOWN","message":"x"}]})"};
        });
        wbclient::RegistryClient client(registry.host_port());
        CHECK(wbclient::list_tags(client, "emptied").empty());
        CHECK(wbclient::list_tags(client, "blobs-only").empty());
    }

    SECTION("a registry whose Links are absolute, listed several to a header, in mixed case") {
        ScriptedServer registry([](const std::string&, const std::string& target) {
            if (target == "/v2/_catalog?n=2")
                return ScriptedResponse{.headers = {{"Link", "</v2/_catalog?n=2>; rel=\"prev\", "
                                                             "<http://127.0.0.1:1/unused>; rel=\"first\", "
                                                             "<?page=2>; REL=Next"}},
                                        .body = R"({"repositories":["a","b"]})"};
            if (target == "/v2/_catalog?page=2")
                return ScriptedResponse{.body = R"({"repositories":["c"]})"};
            return ScriptedResponse{.status = 404};
        });
        wbclient::RegistryClient client(registry.host_port());
        std::vector<std::string> links;
        const auto all = wbclient::list_repositories(client, 2, [&](const wbclient::CatalogPage& page) {
            links.push_back(page.link.value_or(""));
        });
        CHECK(all == std::vector<std::string>{"a", "b", "c"});
        CHECK(registry.requests() == std::vector<std::string>{"GET /v2/_catalog?n=2", "GET /v2/_catalog?page=2"});
        REQUIRE(links.size() == 2);
        CHECK(links.back().empty());
    }
}

TEST_CASE("chapter 04: bad input gets a one-line error and a non-zero exit", "[chapter04]") {
    Workspace workspace("chapter04-bad");
    auto upstream = start_registry({.role = "upstream"}, workspace.path());
    auto local = start_registry({.role = "registry"}, workspace.path());
    ScriptedServer broken([](const std::string&, const std::string&) {
        return ScriptedResponse{.status = 500,
                                .headers = {{"Content-Type", "application/json"}},
                                .body = R"({"errors":[{"code":"UNKNOWN","message":"storage is on fire"}]})"};
    });
    // A registry that takes the tour's pushes, then answers its catalog with a Link to itself,
    // a body that is not JSON, or a Link that is not a Link.
    auto catalog_answering = [](ScriptedResponse catalog) {
        return [catalog](const std::string& method, const std::string& target) {
            if (method == "POST") return ScriptedResponse{.status = 202, .headers = {{"Location", "/v2/x/blobs/uploads/u"}}};
            if (method == "PUT") return ScriptedResponse{.status = 201};
            if (target.starts_with("/v2/_catalog")) return catalog;
            return ScriptedResponse{.status = 404};
        };
    };
    ScriptedServer looping(catalog_answering({.headers = {{"Link", "</v2/_catalog?n=2>; rel=\"next\""}},
                                              .body = R"({"repositories":["a"]})"}));
    ScriptedServer not_json(catalog_answering({.body = "<html>hello</html>"}));
    ScriptedServer bad_link(catalog_answering({.headers = {{"Link", "/v2/_catalog?last=a; rel=next"}},
                                               .body = R"({"repositories":["a"]})"}));
    const std::string nobody_listens = "127.0.0.1:" + std::to_string(free_loopback_port());
    const std::string up = upstream->host_port();

    struct Case {
        std::vector<std::string> args;
        std::string expected;
    };
    const std::vector<Case> cases = {
        {{broken.host_port(), up}, "500 Internal Server Error, UNKNOWN (storage is on fire)"},
        {{nobody_listens, up}, "Couldn't connect to server"},
        {{local->host_port(), nobody_listens}, "Couldn't connect to server"},
        {{"localhost:99999", up}, "port '99999' is not a number from 1 to 65535"},
        {{"ftp://localhost:5000", up}, "only http:// and https:// are supported"},
        {{"localhost:5000/my-busybox", up}, "expected host:port or http(s)://host:port"},
        {{local->host_port(), "Not A Host"}, "'Not A Host' is not a valid registry host"},
        {{looping.host_port(), up}, "the Link header leads back to http://" + looping.host_port() + "/v2/_catalog?n=2"},
        {{not_json.host_port(), up}, "/v2/_catalog?n=2: the answer is not a JSON object"},
        {{bad_link.host_port(), up}, "malformed Link header"},
    };
    for (const auto& c : cases) {
        const ChapterRun run = run_chapter("04_tour_of_the_api", c.args, workspace);
        INFO(c.args[0] << " " << c.args[1] << ": " << run.result.err);
        test_support::check_refused("04_tour_of_the_api", run.result, c.expected);
    }
    // The looping registry was asked for its one page once, not forever.
    const std::vector<std::string> asked = looping.requests();
    CHECK(std::count(asked.begin(), asked.end(), "GET /v2/_catalog?n=2") == 1);

    const RunResult usage = run_program({chapter_program("04_tour_of_the_api").string(), "a", "b", "c"});
    CHECK(usage.exit_code == 1);
    CHECK(is_one_line(usage.err));
    CHECK_THAT(usage.err, Catch::StartsWith("usage: ") && Catch::Contains("[registry [upstream]]"));
}
