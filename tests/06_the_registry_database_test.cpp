// Chapter 06: given a registry holding images that share blobs, when the program reads its
// storage folder, then every repository, tag, link and blob size it reports is what was pushed,
// the HTTP API agreed with each answer, and nothing was written. Given a registry with a Redis
// blob-descriptor cache, the cache holds exactly the keys and values registry 2.8.2 writes, on
// push and on read, and with Redis down the registry goes on.
#include "busybox_image.hpp"
#include "chapter_run.hpp"
#include "redis_instance.hpp"
#include "registry_instance.hpp"
#include "test_support.hpp"

#include "wbclient/inspection/redis_cache.hpp"
#include "wbclient/inspection/storage_layout.hpp"

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <iomanip>
#include <map>
#include <set>
#include <sstream>

using namespace harness;
namespace fs = std::filesystem;
using wbclient::Digest;

namespace {

const std::string program = "06_the_registry_database";
const std::string octet_stream = "application/octet-stream";

// Every file under the storage root with its digest, every folder as "/": to prove nothing changed.
std::map<std::string, std::string> snapshot(const fs::path& root) {
    std::map<std::string, std::string> files;
    for (const auto& entry : fs::recursive_directory_iterator(root))
        files[entry.path().lexically_relative(root).string()] =
            entry.is_directory() ? "/" : wbclient::digest_of_file(entry.path()).str();
    return files;
}

// The images the tests push: busybox in my-busybox, a tiny OCI image tagged twice in
// tour/alpha, busybox's layer mounted (blob only) into hello-workbook, and an upload to
// half-done that never finishes.
struct Pushed {
    Digest busybox;                     // manifest
    std::vector<wbclient::Descriptor> busybox_blobs;  // config, layer
    std::uint64_t busybox_manifest_size = 0;
    Digest tour;                        // manifest
    wbclient::Descriptor tour_config;
    std::uint64_t tour_manifest_size = 0;
    std::string half_done_upload;       // its UUID
};

// `after` runs after each step, for a test that watches what each one does.
using StepObserver = std::function<void(const std::string& step)>;

Pushed push_images(wbclient::RegistryClient& client, const StepObserver& after = [](const std::string&) {}) {
    const Digest busybox_digest = seed_busybox(client, "my-busybox", "latest");
    after("busybox pushed");
    const auto busybox = client.get_manifest("my-busybox", "latest");
    after("busybox manifest fetched");

    const std::string config = R"({"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}})";
    const wbclient::Descriptor tour_config{.media_type = std::string(wbclient::media_type::oci_config),
                                            .digest = wbclient::digest_of(config), .size = config.size()};
    const std::string manifest = nlohmann::json{{"schemaVersion", 2},
                                                {"mediaType", wbclient::media_type::oci_manifest},
                                                {"config", wbclient::descriptor_to_json(tour_config)},
                                                {"layers", nlohmann::json::array()}}.dump();
    client.push_blob("tour/alpha", config);
    const Digest tour = client.put_manifest("tour/alpha", "latest", wbclient::media_type::oci_manifest, manifest);
    after("tour pushed");
    client.put_manifest("tour/alpha", "v1", wbclient::media_type::oci_manifest, manifest);
    after("tour tagged again");

    // A cross-repository mount links the layer into hello-workbook without sending it.
    const auto blobs = busybox.parsed.references();
    const wbclient::Request mount{.method = "POST",
                                   .url = client.url("hello-workbook", "blobs/uploads/?mount=" +
                                                     blobs.at(1).digest.str() + "&from=my-busybox")};
    REQUIRE(client.http().perform(mount).status == 201);
    after("layer mounted");
    // An upload opened and left: half-done has only an _uploads folder.
    const wbclient::Request open{.method = "POST", .url = client.url("half-done", "blobs/uploads/")};
    const wbclient::Response session = client.http().perform(open);
    REQUIRE(session.status == 202);
    return {.busybox = busybox_digest,
            .busybox_blobs = blobs,
            .busybox_manifest_size = busybox.bytes.size(),
            .tour = tour,
            .tour_config = tour_config,
            .tour_manifest_size = manifest.size(),
            .half_done_upload = session.headers.get("Docker-Upload-Uuid").value_or("")};
}

// The line printed after `label`, e.g. the description under a Redis key.
std::string line_after(const std::string& out, const std::string& label) {
    const auto at = out.find(label);
    if (at == std::string::npos) return "<not printed: " + label + ">";
    const auto start = out.find('\n', at) + 1;
    return out.substr(start, out.find('\n', start) - start);
}

std::string blob_line(const std::string& out, const Digest& digest) {
    std::istringstream lines(out);
    for (std::string line; std::getline(lines, line);)
        if (line.starts_with("  " + digest.str() + " ")) return line;
    return "<no line for " + digest.str() + ">";
}

// The output between two headings.
std::string section(const std::string& out, const std::string& from, const std::string& to = "\n== ") {
    const auto start = out.find(from);
    if (start == std::string::npos) return "";
    const auto end = out.find(to, start + from.size());
    return out.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

std::set<std::string> keys_of(wbclient::RedisConnection& redis) {
    const auto keys = redis.keys("*");
    return {keys.begin(), keys.end()};
}

// A TCP server that accepts connections (the kernel does it, into the backlog) and never
// answers: a Redis that does not answer.
class SilentServer {
public:
    SilentServer() : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t length = sizeof address;
        REQUIRE(fd_ >= 0);
        REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
        REQUIRE(::listen(fd_, 8) == 0);
        REQUIRE(::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length) == 0);
        port_ = ntohs(address.sin_port);
    }
    ~SilentServer() { ::close(fd_); }
    SilentServer(const SilentServer&) = delete;
    SilentServer& operator=(const SilentServer&) = delete;
    std::string host_port() const { return "127.0.0.1:" + std::to_string(port_); }

private:
    int fd_;
    unsigned short port_ = 0;
};

}  // namespace

TEST_CASE("chapter 06: the storage, read directly, answers what the HTTP API answers", "[chapter06]") {
    Workspace workspace("chapter06");
    auto registry = start_registry({.role = "registry"}, workspace.path());
    wbclient::RegistryClient client(registry->host_port());
    const Pushed pushed = push_images(client);
    const auto before = snapshot(registry->storage_root());

    const ChapterRun run = run_chapter(program, {"--storage", registry->storage_root().string(), registry->host_port()},
                                       workspace, {{"WORKBOOK_REDIS", ""}});
    INFO(run.result.out << run.result.err << "client saw:\n" << summarize(run.transcript));
    REQUIRE(run.result.exit_code == 0);
    CHECK(run.result.err.empty());
    const std::string& out = run.result.out;

    SECTION("repositories, tags and links, as pushed") {
        CHECK_THAT(out, Catch::Contains("docker/registry/v2/repositories/: 4 repositories\n"
                                        "  half-done: 0 tags, 0 in _manifests/revisions, 0 in _layers, 1 in _uploads\n"
                                        "    upload " + pushed.half_done_upload + ": 0 bytes received\n"
                                        "  hello-workbook: 0 tags, 0 in _manifests/revisions, 1 in _layers, 0 in _uploads\n"
                                        "  my-busybox: 1 tags, 1 in _manifests/revisions, 2 in _layers, 0 in _uploads\n"
                                        "    tag latest -> " + pushed.busybox.str() + " (index: 1)\n"
                                        "  tour/alpha: 2 tags, 1 in _manifests/revisions, 1 in _layers, 0 in _uploads\n"
                                        "    tag latest -> " + pushed.tour.str() + " (index: 1)\n"
                                        "    tag v1 -> " + pushed.tour.str() + " (index: 1)\n"));
        CHECK_FALSE(pushed.half_done_upload.empty());
        // The library read the same links the registry wrote.
        const wbclient::StorageLayout storage(registry->storage_root());
        const auto my_busybox = storage.repository("my-busybox");
        CHECK(my_busybox.revisions == std::vector<Digest>{pushed.busybox});
        const std::string current = registry->storage_root() /
                                    "docker/registry/v2/repositories/my-busybox/_manifests/tags/latest/current/link";
        std::ifstream link(current);
        CHECK(std::string(std::istreambuf_iterator<char>(link), {}) == pushed.busybox.str());
    }

    SECTION("every blob once, its size, and who links it") {
        const auto& config = pushed.busybox_blobs.at(0);
        const auto& layer = pushed.busybox_blobs.at(1);
        CHECK_THAT(out, Catch::Contains("docker/registry/v2/blobs/sha256/: 5 blobs, and who links each\n"));
        auto expected = [](const Digest& digest, std::uint64_t size, const std::string& links) {
            std::ostringstream line;
            line << "  " << digest.str() << std::setw(9) << size << " bytes  " << links;
            return line.str();
        };
        CHECK(blob_line(out, layer.digest) ==
              expected(layer.digest, layer.size, "2 links: hello-workbook/_layers, my-busybox/_layers"));
        CHECK(blob_line(out, config.digest) == expected(config.digest, config.size, "1 links: my-busybox/_layers"));
        CHECK(blob_line(out, pushed.busybox) ==
              expected(pushed.busybox, pushed.busybox_manifest_size, "1 links: my-busybox/_manifests/revisions"));
        CHECK(blob_line(out, pushed.tour_config.digest) ==
              expected(pushed.tour_config.digest, pushed.tour_config.size, "1 links: tour/alpha/_layers"));
        CHECK(blob_line(out, pushed.tour) ==
              expected(pushed.tour, pushed.tour_manifest_size, "1 links: tour/alpha/_manifests/revisions"));
        const std::uint64_t stored = config.size + layer.size + pushed.busybox_manifest_size + pushed.tour_config.size +
                                     pushed.tour_manifest_size;
        CHECK_THAT(out, Catch::Contains("Stored: " + std::to_string(stored) + " bytes. One copy per link would take " +
                                        std::to_string(stored + layer.size) + " bytes.\n"));
        // Each size is the data file's, which is what the registry serves.
        for (const auto& blob : {config, layer}) CHECK(client.blob_size("my-busybox", blob.digest) == blob.size);
    }

    SECTION("the cross-check: catalog, tags/list, a HEAD per tag and per linked blob, all 200") {
        CHECK_THAT(out, Catch::Contains("GET /v2/_catalog: [hello-workbook, my-busybox, tour/alpha], each repository "
                                        "with a _layers folder\n"));
        const auto catalog = select(run.transcript, "GET", "/v2/_catalog");
        REQUIRE(catalog.size() == 1);
        CHECK(catalog[0].status == 200);
        for (const char* repository : {"hello-workbook", "my-busybox", "tour/alpha"})
            CHECK(select(run.transcript, "GET", "/v2/" + std::string(repository) + "/tags/list").size() == 1);
        CHECK(select(run.transcript, "GET", "/v2/half-done/").empty());
        // hello-workbook has a blob and no manifest: tags/list answers 404 NAME_UNKNOWN, no tags.
        const auto hello_tags = select(run.transcript, "GET", "/v2/hello-workbook/tags/list");
        REQUIRE(hello_tags.size() == 1);
        CHECK(hello_tags[0].status == 404);
        const auto heads = select(run.transcript, "HEAD");
        CHECK(heads.size() == 3 + 4);  // three tags, four _layers links
        for (const auto& head : heads) CHECK(head.status == 200);
        const auto latest = select(run.transcript, "HEAD", "/v2/my-busybox/manifests/latest");
        REQUIRE(latest.size() == 1);
        CHECK(latest[0].response_header("Docker-Content-Digest") == pushed.busybox.str());
        CHECK(select(run.transcript, "HEAD", "/v2/hello-workbook/blobs/" + pushed.busybox_blobs.at(1).digest.str()).size() == 1);
        // 1 catalog + 3 tags/list + 3 manifests + 4 blobs
        CHECK_THAT(out, Catch::Contains("\n11 answers, each the same as the storage's.\n"));
        // The registry saw the same requests: its log has the catalog GET and the seven HEADs.
        const auto logged = registry->access_log();
        CHECK(select(logged, "GET", "/v2/_catalog").size() == 1);
        const auto logged_heads = select(logged, "HEAD");
        CHECK(logged_heads.size() == 7);
        for (const auto& head : logged_heads) CHECK(head.status == 200);
        for (const auto& e : run.transcript) CHECK((e.method == "GET" || e.method == "HEAD"));
    }

    SECTION("without Redis the program says so, and it wrote nothing") {
        CHECK_THAT(out, Catch::Contains("== Redis: not configured (give --redis HOST:PORT or set WORKBOOK_REDIS)"));
        CHECK(snapshot(registry->storage_root()) == before);
    }
}

TEST_CASE("chapter 06: the Redis blob-descriptor cache, filled on push and on read; Redis down, the registry goes on",
          "[chapter06]") {
    Workspace workspace("chapter06-redis");
    auto redis = start_redis(workspace.path());
    auto registry = start_registry(with_redis_cache({.role = "registry"}, *redis), workspace.path());
    CHECK_THAT(registry->log(), Catch::Contains("using redis blob descriptor cache"));
    wbclient::RegistryClient client(registry->host_port());
    wbclient::RedisConnection cache(wbclient::RedisAddress::parse(redis->host_port()));
    std::map<std::string, std::set<std::string>> keys_after;  // by step
    const Pushed pushed = push_images(client, [&](const std::string& step) { keys_after[step] = keys_of(cache); });
    const auto& config = pushed.busybox_blobs.at(0);
    const auto& layer = pushed.busybox_blobs.at(1);
    const std::string bb_config = config.digest.str(), bb_layer = layer.digest.str();
    const std::string tour_config = pushed.tour_config.digest.str();

    // Each blob upload wrote its descriptor twice: for any repository, and for this one.
    // The manifest PUT that followed wrote nothing about the manifest.
    std::set<std::string> expected = {"blobs::" + bb_config, "blobs::" + bb_layer, "repository::my-busybox::blobs",
                                      "repository::my-busybox::blobs::" + bb_config,
                                      "repository::my-busybox::blobs::" + bb_layer};
    CHECK(keys_after["busybox pushed"] == expected);
    // A GET of the manifest: a miss, looked up in the storage and remembered, globally only.
    expected.insert("blobs::" + pushed.busybox.str());
    CHECK(keys_after["busybox manifest fetched"] == expected);
    expected.insert({"blobs::" + tour_config, "repository::tour/alpha::blobs", "repository::tour/alpha::blobs::" + tour_config});
    CHECK(keys_after["tour pushed"] == expected);
    // The same manifest PUT again (a second tag): the registry stats what it has, and caches it.
    expected.insert("blobs::" + pushed.tour.str());
    CHECK(keys_after["tour tagged again"] == expected);
    // A mount links the layer into hello-workbook, and tells the cache nothing.
    CHECK(keys_after["layer mounted"] == expected);
    const std::set<std::string> after_push = expected;
    REQUIRE(keys_of(cache) == after_push);
    // blobs::<digest>: the digest, the size, and application/octet-stream whatever the blob is.
    const auto pushed_cache = wbclient::read_blob_descriptor_cache(cache);
    const wbclient::StorageLayout storage(registry->storage_root());
    const std::map<std::string, std::uint64_t> sizes = {{bb_config, config.size}, {bb_layer, layer.size},
                                                        {pushed.busybox.str(), pushed.busybox_manifest_size},
                                                        {tour_config, pushed.tour_config.size},
                                                        {pushed.tour.str(), pushed.tour_manifest_size}};
    for (const auto& [digest, size] : sizes) {
        INFO(digest);
        CHECK(cache.type("blobs::" + digest) == "hash");
        CHECK(cache.hash("blobs::" + digest) == std::map<std::string, std::string>{{"digest", digest},
                                                                                   {"mediatype", octet_stream},
                                                                                   {"size", std::to_string(size)}});
        CHECK(storage.blob(Digest::parse(digest))->size == size);
    }
    CHECK(cache.type("repository::my-busybox::blobs") == "set");
    CHECK(cache.set_members("repository::my-busybox::blobs") == std::set<std::string>{bb_config, bb_layer});
    CHECK(cache.hash("repository::my-busybox::blobs::" + bb_layer) ==
          std::map<std::string, std::string>{{"mediatype", octet_stream}});
    CHECK(pushed_cache.repository_blobs.at("tour/alpha") == std::set<std::string>{tour_config});
    CHECK(pushed_cache.other_keys.empty());

    const std::vector<std::string> args = {"--storage", registry->storage_root().string(), "--redis",
                                           redis->host_port(), registry->host_port()};
    const ChapterRun run = run_chapter(program, args, workspace);
    INFO(run.result.out << run.result.err);
    REQUIRE(run.result.exit_code == 0);
    const std::string& out = run.result.out;

    SECTION("the program shows each key as the pushes left it, beside the storage's answer") {
        const std::string before = section(out, "== Redis at " + redis->host_port() + ": 10 keys, as the pushes left them\n");
        REQUIRE_FALSE(before.empty());
        for (const std::string& key : after_push) CHECK_THAT(before, Catch::Contains("\n  " + key + "\n"));
        CHECK(line_after(before, "  blobs::" + layer.digest.str() + "\n") ==
              "      hash: size " + std::to_string(layer.size) + ", mediatype " + octet_stream +
                  "; the data file: the same size");
        CHECK(line_after(before, "  repository::my-busybox::blobs\n") ==
              "      set of 2; each linked in my-busybox/_layers");
        CHECK(line_after(before, "  repository::tour/alpha::blobs::" + pushed.tour_config.digest.str() + "\n") ==
              "      hash: mediatype " + octet_stream);
        CHECK_THAT(out, !Catch::Contains("STALE"));
    }

    SECTION("reads fill the cache: a HEAD of the mounted layer in hello-workbook adds its keys") {
        std::set<std::string> after_read = after_push;
        after_read.insert({"repository::hello-workbook::blobs", "repository::hello-workbook::blobs::" + bb_layer});
        CHECK(keys_of(cache) == after_read);
        const std::string after = section(out, "== Redis again, after those requests: 12 keys; new:\n");
        REQUIRE_FALSE(after.empty());
        // Only the keys the reads added are listed as new.
        for (const std::string& key : after_read) {
            INFO(key);
            CHECK((after.find("\n  " + key + "\n") != std::string::npos) == !after_push.contains(key));
        }
        CHECK(line_after(after, "  repository::hello-workbook::blobs\n") ==
              "      set of 1; each linked in hello-workbook/_layers");
    }

    SECTION("Redis down: pushes and pulls go on, the registry logs why; back up, it fills again") {
        redis->stop();
        const std::string extra = "a blob pushed while Redis is down";
        client.push_blob("my-busybox", extra);
        const Digest extra_digest = wbclient::digest_of(extra);
        // Each request tries Redis a dozen times; redis.dialtimeout bounds what that costs.
        const auto asked = std::chrono::steady_clock::now();
        CHECK(client.blob_size("my-busybox", extra_digest) == extra.size());
        CHECK(std::chrono::steady_clock::now() - asked < std::chrono::seconds(10));
        CHECK(client.get_manifest("my-busybox", "latest").digest == pushed.busybox);
        CHECK_THAT(registry->log(), Catch::Contains("error connecting to redis instance"));
        CHECK_THAT(registry->log(), Catch::Contains("\"msg\":\"redis: error connecting: "));

        // The program asked for that Redis: a one-line error. Without it: the storage and the API agree.
        const ChapterRun refused = run_chapter(program, args, workspace);
        CHECK(refused.result.exit_code == 1);
        CHECK(is_one_line(refused.result.err));
        CHECK_THAT(refused.result.err, Catch::StartsWith(program + ": Redis at " + redis->host_port() + ": "));
        CHECK(refused.result.out.empty());
        const ChapterRun storage_only = run_chapter(
            program, {"--storage", registry->storage_root().string(), registry->host_port()}, workspace, {{"WORKBOOK_REDIS", ""}});
        INFO(storage_only.result.err);
        CHECK(storage_only.result.exit_code == 0);
        CHECK_THAT(storage_only.result.out, Catch::Contains("  my-busybox: 1 tags, 1 in _manifests/revisions, 3 in _layers"));

        redis->start();
        wbclient::RedisConnection restarted(wbclient::RedisAddress::parse(redis->host_port()));
        CHECK(keys_of(restarted).empty());  // nothing saved: a cache starts cold
        CHECK(client.blob_size("my-busybox", extra_digest) == extra.size());
        CHECK(keys_of(restarted) == std::set<std::string>{"blobs::" + extra_digest.str(), "repository::my-busybox::blobs",
                                                          "repository::my-busybox::blobs::" + extra_digest.str()});
    }
}

TEST_CASE("chapter 06: bad input gets a one-line error, a non-zero exit, and nothing written", "[chapter06]") {
    Workspace workspace("chapter06-bad");
    auto redis = start_redis(workspace.path());
    auto registry = start_registry(with_redis_cache({.role = "registry"}, *redis), workspace.path());
    auto empty = start_registry({.role = "upstream"}, workspace.path());
    wbclient::RegistryClient client(registry->host_port());
    push_images(client);
    const std::string storage = registry->storage_root().string();
    wbclient::RedisConnection cache(wbclient::RedisAddress::parse(redis->host_port()));
    const auto keys_before = keys_of(cache);
    const auto storage_before = snapshot(registry->storage_root());

    const fs::path not_storage = workspace.path() / "not-storage";
    fs::create_directories(not_storage / "docker");
    std::ofstream(not_storage / "README") << "not a registry\n";
    // A copy of the real storage with one link file garbled.
    const fs::path garbled = workspace.path() / "garbled";
    fs::copy(registry->storage_root(), garbled, fs::copy_options::recursive);
    const fs::path bad_link = garbled / "docker/registry/v2/repositories/my-busybox/_manifests/tags/latest/current/link";
    std::ofstream(bad_link, std::ios::trunc) << "sha256:not-a-digest";
    const auto garbled_before = snapshot(garbled);

    const SilentServer silent;
    const std::string nobody = "127.0.0.1:" + std::to_string(free_loopback_port());
    const std::string r = registry->host_port();
    struct Case {
        std::vector<std::string> args;
        std::string expected;
    };
    const std::vector<Case> cases = {
        {{"--storage", not_storage.string(), r}, not_storage.string() + " is not a registry's storage"},
        {{"--storage", (workspace.path() / "nowhere").string(), r}, "does not exist"},
        {{r}, "no storage folder: give --storage DIR or set WORKBOOK_STORAGE"},
        {{"--storage", garbled.string(), r}, "malformed link " + bad_link.string() + ": "},
        {{"--storage", storage, "--redis", nobody, r}, "Redis at " + nobody + ": cannot connect: Connection refused"},
        {{"--storage", storage, "--redis", silent.host_port(), r}, "Redis at " + silent.host_port() + ": PING: no answer within 2000 ms"},
        {{"--storage", storage, "--redis", r, r}, "Redis at " + r + ": PING: Protocol error"},
        {{"--storage", storage, "--redis", "localhost", r}, "'localhost' is not a Redis address: expected host:port"},
        {{"--storage", storage, "--redis", "127.0.0.1:70000", r}, "Redis port '70000' is not a number from 1 to 65535"},
        {{"--storage", storage, "Not A Host"}, "'Not A Host' is not a valid registry host"},
        {{"--storage", storage, "ftp://localhost:5000"}, "only http:// and https:// are supported"},
        {{"--storage", storage, nobody}, "Couldn't connect to server"},
        {{"--storage", storage, empty->host_port()}, "the storage and the registry at http://" + empty->host_port() +
                                                         " disagree: GET /v2/_catalog lists [], _layers folders ["},
    };
    for (const auto& c : cases) {
        const ChapterRun run = run_chapter(program, c.args, workspace, {{"WORKBOOK_STORAGE", ""}, {"WORKBOOK_REDIS", ""}});
        INFO(c.args.back() << " (" << c.args.size() << " args): " << run.result.err);
        test_support::check_refused(program, run.result, c.expected);
    }
    // Bad input is refused before a word of output; only the disagreeing registry got that far.
    for (const auto& c : {cases[0], cases[4], cases[5]}) {
        const RunResult quiet = run_chapter(program, c.args, workspace, {{"WORKBOOK_REDIS", ""}}).result;
        CHECK((quiet.exit_code == 1 && !quiet.timed_out && quiet.out.empty()));
    }

    for (const std::vector<std::string>& wrong : {std::vector<std::string>{"--verbose"}, {"a", "b"}, {"--storage"}}) {
        std::vector<std::string> argv{chapter_program(program).string()};
        argv.insert(argv.end(), wrong.begin(), wrong.end());
        const RunResult usage = run_program(argv);
        CHECK(usage.exit_code == 1);
        CHECK(is_one_line(usage.err));
        CHECK_THAT(usage.err, Catch::StartsWith("usage: ") && Catch::Contains("[--storage DIR] [--redis HOST:PORT] [registry]"));
    }

    // The program only reads: the storage, its garbled copy and the cache are as they were.
    CHECK(snapshot(registry->storage_root()) == storage_before);
    CHECK(snapshot(garbled) == garbled_before);
    CHECK(keys_of(cache) == keys_before);
}
