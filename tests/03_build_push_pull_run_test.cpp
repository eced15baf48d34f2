// Chapter 03: given an empty registry, when the program builds the hello image from scratch,
// pushes it and pulls it back, then the layer is deterministic, its two digests and the config
// and manifest are what the registry stored and served, the unpacked file is the built one
// byte for byte, and other clients (skopeo; docker in the compose run) read and run it.
#include "test_support.hpp"
#include "layer_inspection.hpp"
#include "chapter_run.hpp"
#include "rootfs_comparison.hpp"
#include "registry_instance.hpp"
#include "scripted_server.hpp"

#include "wbclient/model/digest.hpp"
#include "wbclient/image/image_builder.hpp"
#include "wbclient/image/layer_extractor.hpp"
#include "wbclient/model/manifest.hpp"
#include "wbclient/image/oci_layout.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <catch2/catch.hpp>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <fstream>
#include <memory>
#include <set>

using namespace harness;
namespace fs = std::filesystem;

using namespace test_support;

namespace {

const std::string program = "03_build_push_pull_run";

std::optional<std::string> request_header(const ObservedExchange& exchange, const std::string& name) {
    for (const auto& [key, value] : exchange.request_headers)
        if (strcasecmp(key.c_str(), name.c_str()) == 0) return value;
    return std::nullopt;
}

// The files --add packs next to /hello.
void make_extra_files(const fs::path& folder) {
    fs::create_directories(folder / "etc");
    std::ofstream(folder / "etc" / "greeting.txt") << "hello from a file the test made\n";
    fs::create_symlink("greeting.txt", folder / "etc" / "motd");
    std::ofstream(folder / "README") << "packed by --add\n";
}

const std::string hello_output =
    "Hello from hello-workbook, an image built in C++ (running on Linux x86_64).\n";

RunResult docker(std::vector<std::string> args) {
    args.insert(args.begin(), "docker");
    return run_program(args, {.timeout = std::chrono::seconds(180)});
}

RunResult skopeo_inspect(const std::string& host_port, const std::string& image) {
    return run_program({"skopeo", "inspect", "--tls-verify=false",
                        "docker://" + host_port + "/" + image},
                       {.timeout = std::chrono::seconds(60)});
}

}  // namespace

TEST_CASE("chapter 03: build from scratch, push, pull back, verify, unpack, run", "[chapter03]") {
    Workspace workspace("chapter03");
    auto registry = start_registry({.role = "registry"}, workspace.path());
    make_extra_files(workspace.path() / "extra");
    const std::string image = registry->host_port() + "/hello-workbook:latest";

    const ChapterRun run = run_chapter(
        program, {"--label", "org.opencontainers.image.title=hello-workbook", "--label", "workbook.chapter=03",
                  "--add", "extra", image, "hello-workbook"},
        workspace);
    INFO(run.result.out << run.result.err);
    REQUIRE(run.result.exit_code == 0);
    CHECK(run.result.err.empty());

    const fs::path work = workspace.path() / "hello-workbook";
    const std::string manifest_bytes = read_existing_file(work / "manifest.json");
    const std::string config_bytes = read_existing_file(work / "config.json");
    const auto manifest = wbclient::Manifest::parse(manifest_bytes, "");
    const auto config = nlohmann::json::parse(config_bytes);
    const wbclient::Digest manifest_digest = wbclient::digest_of(manifest_bytes);
    REQUIRE(manifest.layers.size() == 1);
    const wbclient::Descriptor layer = manifest.layers.front();
    const ReadLayer tar = read_layer(work / "layer.tar.gz");
    INFO("client saw:\n" << summarize(run.transcript));

    SECTION("the layer: sorted entries, owner root, time 0, no host paths, its two digests") {
        std::vector<std::string> paths;
        for (const auto& e : tar.entries) paths.push_back(e.path);
        CHECK(paths == std::vector<std::string>{"README", "etc/", "etc/greeting.txt", "etc/motd", "hello"});
        REQUIRE(tar.entries.size() == 5);  // the indexing below reads no further than that
        for (const auto& e : tar.entries) {
            CHECK(e.uid == 0);
            CHECK(e.gid == 0);
            CHECK(e.mtime == 0);
            CHECK(e.uname.empty());
            CHECK(e.gname.empty());
        }
        CHECK(tar.entries.back().type == AE_IFREG);
        CHECK(tar.entries.back().perm == 0755);
        CHECK(tar.entries[3].type == AE_IFLNK);
        CHECK(tar.entries[3].symlink == "greeting.txt");
        // No trace of where it was built: the workspace path is nowhere in the tar.
        std::string tar_bytes;
        {
            std::unique_ptr<archive, ArchiveReadFree> raw(archive_read_new());
            archive_read_support_filter_gzip(raw.get());
            archive_read_support_format_raw(raw.get());
            REQUIRE(archive_read_open_filename(raw.get(), (work / "layer.tar.gz").c_str(), 1 << 16) == ARCHIVE_OK);
            archive_entry* entry = nullptr;
            REQUIRE(archive_read_next_header(raw.get(), &entry) == ARCHIVE_OK);
            std::array<char, 1 << 16> buffer{};
            for (la_ssize_t n; (n = archive_read_data(raw.get(), buffer.data(), buffer.size())) > 0;)
                tar_bytes.append(buffer.data(), static_cast<std::size_t>(n));
        }
        CHECK(tar_bytes.find(workspace.path().string()) == std::string::npos);
        CHECK(tar_bytes.find("/work/") == std::string::npos);
        // The blob digest is of the gzip bytes, the diff_id of the tar inside.
        CHECK(layer.digest == wbclient::digest_of_file(work / "layer.tar.gz"));
        CHECK(layer.size == fs::file_size(work / "layer.tar.gz"));
        CHECK(layer.digest != tar.diff_id);
        CHECK_THAT(run.result.out, Catch::Contains("digest " + layer.digest.str()) &&
                                       Catch::Contains("its diff_id: " + tar.diff_id.str()));
    }

    SECTION("the config and the OCI manifest say what the chapter promises") {
        CHECK(manifest.media_type == wbclient::media_type::oci_manifest);
        CHECK(layer.media_type == wbclient::media_type::oci_layer_gzip);
        CHECK(manifest.config->media_type == wbclient::media_type::oci_config);
        CHECK(manifest.config->digest == wbclient::digest_of(config_bytes));
        CHECK(manifest.config->size == config_bytes.size());
        CHECK(config["rootfs"] == nlohmann::json{{"type", "layers"}, {"diff_ids", {tar.diff_id.str()}}});
        CHECK(config["history"].size() == 1);
        CHECK(config["history"][0]["created"] == "1970-01-01T00:00:00Z");
        CHECK(config["os"] == "linux");
        CHECK(config["architecture"] == std::string(wbclient::host_architecture()));
        CHECK(config["config"]["Cmd"] == nlohmann::json{"/hello"});
        CHECK(config["config"]["Env"][0].get<std::string>().starts_with("PATH="));
        CHECK(config["config"]["Labels"] ==
              nlohmann::json{{"org.opencontainers.image.title", "hello-workbook"}, {"workbook.chapter", "03"}});
        // The program printed exactly the bytes it pushed.
        CHECK_THAT(run.result.out, Catch::Contains(config_bytes) && Catch::Contains(manifest_bytes));
    }

    SECTION("the client: blobs first (HEAD 404, POST 202, PUT 201), then the manifest, then the pull") {
        std::size_t last_blob_put = 0;
        for (const auto& blob : {layer, *manifest.config}) {
            const auto head = index_of(run.transcript, "HEAD", "/v2/hello-workbook/blobs/" + blob.digest.str());
            CHECK(run.transcript[head].status == 404);
            const auto post = index_of(run.transcript, "POST", "/v2/hello-workbook/blobs/uploads/", head);
            CHECK(run.transcript[post].status == 202);
            const auto put = index_of(run.transcript, "PUT", "/v2/hello-workbook/blobs/uploads/", post);
            CHECK(run.transcript[put].status == 201);
            CHECK_THAT(run.transcript[put].uri, Catch::EndsWith("digest=" + blob.digest.str()));
            CHECK(run.transcript[put].bytes_sent == blob.size);
            CHECK(run.transcript[put].response_header("Docker-Content-Digest") == blob.digest.str());
            last_blob_put = std::max(last_blob_put, put);
        }
        // The layer goes up before the config, as docker push does.
        CHECK(index_of(run.transcript, "PUT", "/v2/hello-workbook/blobs/uploads/") <
              index_of(run.transcript, "HEAD", "/v2/hello-workbook/blobs/" + manifest.config->digest.str()));
        const auto manifest_put = index_of(run.transcript, "PUT", "/v2/hello-workbook/manifests/latest");
        CHECK(manifest_put > last_blob_put);
        CHECK(run.transcript[manifest_put].status == 201);
        CHECK(run.transcript[manifest_put].bytes_sent == manifest_bytes.size());
        CHECK(request_header(run.transcript[manifest_put], "Content-Type") ==
              std::string(wbclient::media_type::oci_manifest));
        CHECK(run.transcript[manifest_put].response_header("Docker-Content-Digest") == manifest_digest.str());

        const auto manifest_get = index_of(run.transcript, "GET", "/v2/hello-workbook/manifests/latest", manifest_put);
        CHECK(run.transcript[manifest_get].status == 200);
        CHECK(run.transcript[manifest_get].response_header("Content-Type") ==
              std::string(wbclient::media_type::oci_manifest));
        CHECK(run.transcript[manifest_get].bytes_received == manifest_bytes.size());
        for (const auto& blob : {*manifest.config, layer}) {
            const auto get = index_of(run.transcript, "GET", "/v2/hello-workbook/blobs/" + blob.digest.str(), manifest_get);
            CHECK(run.transcript[get].status == 200);
            CHECK(run.transcript[get].bytes_received == blob.size);
        }
        CHECK(select(run.transcript, "PUT").size() == 3);
    }

    SECTION("the registry: its log agrees, and its storage holds the very bytes that were built") {
        const auto log = registry->access_log();
        INFO("registry logged:\n" << summarize(log));
        CHECK(select(log, "PUT", "/v2/hello-workbook/blobs/uploads/").size() == 2);
        for (const auto& e : select(log, "PUT", "/v2/hello-workbook/blobs/uploads/")) CHECK(e.status == 201);
        const auto manifest_put = index_of(log, "PUT", "/v2/hello-workbook/manifests/latest");
        CHECK(log[manifest_put].status == 201);
        CHECK(wbclient::same_contents(registry->blob_data(layer.digest), work / "layer.tar.gz"));
        CHECK(wbclient::same_contents(registry->blob_data(manifest.config->digest), work / "config.json"));
        CHECK(wbclient::same_contents(registry->blob_data(manifest_digest), work / "manifest.json"));
        const fs::path tag_link = registry->storage_root() /
                                  "docker/registry/v2/repositories/hello-workbook/_manifests/tags/latest/current/link";
        CHECK(read_existing_file(tag_link) == manifest_digest.str());
    }

    SECTION("the pulled layout verifies, and the unpacked files are the built ones, byte for byte") {
        const fs::path layout = work / "pulled.oci";
        CHECK(wbclient::verify_oci_layout(layout) == 3);
        const auto index = nlohmann::json::parse(read_existing_file(layout / "index.json"));
        CHECK(index["manifests"][0]["digest"] == manifest_digest.str());
        CHECK(index["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"] == "latest");
        CHECK(wbclient::same_contents(layout / "blobs/sha256" / std::string(layer.digest.hex()),
                                       work / "layer.tar.gz"));
        const fs::path rootfs = work / "rootfs";
        CHECK(wbclient::same_contents(rootfs / "hello", chapter_program("hello")));
        CHECK(wbclient::same_contents(rootfs / "etc/greeting.txt", workspace.path() / "extra/etc/greeting.txt"));
        CHECK(wbclient::same_contents(rootfs / "README", workspace.path() / "extra/README"));
        CHECK(fs::read_symlink(rootfs / "etc/motd") == "greeting.txt");
        CHECK((fs::status(rootfs / "hello").permissions() & fs::perms::mask) == fs::perms(0755));
        CHECK(fs::last_write_time(rootfs / "hello") == fs::file_time_type::clock::from_sys(std::chrono::system_clock::from_time_t(0)));
        CHECK_THAT(run.result.out, Catch::Contains("3 file(s) identical, byte for byte"));
        CHECK_THAT(run.result.out, Catch::EndsWith("Running hello-workbook/rootfs/hello:\n  " + hello_output));
        CHECK_FALSE(has_partial_leftovers(workspace.path()));
    }

    SECTION("skopeo reads the image from the registry: digest, labels, os and architecture") {
        const RunResult inspected = skopeo_inspect(registry->host_port(), "hello-workbook:latest");
        INFO(inspected.out << inspected.err);
        REQUIRE(inspected.exit_code == 0);
        const auto json = nlohmann::json::parse(inspected.out);
        CHECK(json["Digest"] == manifest_digest.str());
        CHECK(json["Labels"]["workbook.chapter"] == "03");
        CHECK(json["Labels"]["org.opencontainers.image.title"] == "hello-workbook");
        CHECK(json["Os"] == "linux");
        CHECK(json["Architecture"] == std::string(wbclient::host_architecture()));
        CHECK(json["Layers"] == nlohmann::json{layer.digest.str()});
        CHECK(json["Created"] == "1970-01-01T00:00:00Z");
    }
}

TEST_CASE("chapter 03: building twice gives the same bytes; --docker changes only the manifest",
          "[chapter03]") {
    Workspace workspace("chapter03-twice");
    auto registry = start_registry({.role = "registry"}, workspace.path());
    const std::string oci_image = registry->host_port() + "/hello-workbook:latest";
    const std::string docker_image = registry->host_port() + "/hello-workbook:schema2";
    const std::vector<std::string> labels{"--label", "workbook.chapter=03"};
    const auto run_with = [&](std::vector<std::string> args) {
        args.insert(args.begin(), labels.begin(), labels.end());
        ChapterRun run = run_chapter(program, args, workspace);
        INFO(run.result.out << run.result.err);
        REQUIRE(run.result.exit_code == 0);
        return run;
    };
    run_with({oci_image, "first"});
    const ChapterRun second = run_with({oci_image, "second"});
    for (const char* file : {"layer.tar.gz", "config.json", "manifest.json"})
        CHECK(wbclient::same_contents(workspace.path() / "first" / file, workspace.path() / "second" / file));
    // The registry already had both blobs: the second push only asked.
    INFO(summarize(second.transcript));
    CHECK(select(second.transcript, "POST").empty());
    const auto heads = select(second.transcript, "HEAD", "/v2/hello-workbook/blobs/");
    REQUIRE(heads.size() == 2);
    for (const auto& head : heads) CHECK(head.status == 200);
    CHECK_THAT(second.result.out, Catch::Contains("  exists sha256:"));
    const auto manifest_puts = select(second.transcript, "PUT", "/v2/hello-workbook/manifests/latest");
    REQUIRE(manifest_puts.size() == 1);
    CHECK(manifest_puts.front().status == 201);

    const ChapterRun docker_run = run_with({"--docker", docker_image, "schema2"});
    CHECK(wbclient::same_contents(workspace.path() / "first/layer.tar.gz", workspace.path() / "schema2/layer.tar.gz"));
    CHECK(wbclient::same_contents(workspace.path() / "first/config.json", workspace.path() / "schema2/config.json"));
    const auto oci = wbclient::Manifest::parse(read_existing_file(workspace.path() / "first/manifest.json"), "");
    const std::string docker_bytes = read_existing_file(workspace.path() / "schema2/manifest.json");
    const auto schema2 = wbclient::Manifest::parse(docker_bytes, "");
    CHECK(schema2.media_type == wbclient::media_type::docker_manifest);
    CHECK(schema2.config->media_type == wbclient::media_type::docker_config);
    REQUIRE(schema2.layers.size() == 1);
    REQUIRE(oci.layers.size() == 1);
    CHECK(schema2.layers.front().media_type == wbclient::media_type::docker_layer_gzip);
    CHECK(schema2.layers.front().digest == oci.layers.front().digest);
    CHECK(schema2.config->digest == oci.config->digest);
    CHECK(wbclient::digest_of(docker_bytes) != wbclient::digest_of(read_existing_file(workspace.path() / "first/manifest.json")));
    const auto put = select(docker_run.transcript, "PUT", "/v2/hello-workbook/manifests/schema2");
    REQUIRE(put.size() == 1);
    CHECK(request_header(put.front(), "Content-Type") == std::string(wbclient::media_type::docker_manifest));
    const auto get = select(docker_run.transcript, "GET", "/v2/hello-workbook/manifests/schema2");
    REQUIRE(get.size() == 1);
    CHECK(get.front().response_header("Content-Type") == std::string(wbclient::media_type::docker_manifest));
    CHECK(get.front().response_header("Docker-Content-Digest") == wbclient::digest_of(docker_bytes).str());

    {
        // skopeo reads the schema2 image too, with the same layer and labels.
        const RunResult inspected = skopeo_inspect(registry->host_port(), "hello-workbook:schema2");
        INFO(inspected.out << inspected.err);
        REQUIRE(inspected.exit_code == 0);
        const auto json = nlohmann::json::parse(inspected.out);
        CHECK(json["Digest"] == wbclient::digest_of(docker_bytes).str());
        CHECK(json["Labels"]["workbook.chapter"] == "03");
        CHECK(json["Layers"] == nlohmann::json{oci.layers.front().digest.str()});
    }

    {
        // A re-run replaces its own folder; a folder it did not make is refused and left alone.
        run_with({oci_image, "first"});
        CHECK(fs::exists(workspace.path() / "first/rootfs/hello"));
        CHECK_FALSE(has_partial_leftovers(workspace.path()));
        fs::create_directories(workspace.path() / "precious");
        std::ofstream(workspace.path() / "precious/notes.txt") << "mine\n";
        const ChapterRun refused = run_chapter(program, {oci_image, "precious"}, workspace);
        CHECK(refused.result.exit_code == 1);
        CHECK(is_one_line(refused.result.err));
        CHECK_THAT(refused.result.err, Catch::StartsWith(program + ": precious exists and is not this chapter's folder"));
        CHECK(read_existing_file(workspace.path() / "precious/notes.txt") == "mine\n");
        CHECK(refused.transcript.empty());
    }

    // The compose run has a Docker daemon (dockerd 20.10): it pulls and runs both formats.
    if (registry->engine() == "compose") {
        const std::string port = registry->host_port().substr(registry->host_port().rfind(':') + 1);
        struct Cleanup {
            std::vector<std::string> images;
            ~Cleanup() {
                for (const auto& image : images) docker({"image", "rm", "-f", image});
            }
        } cleanup;
        for (const char* folder : {"first", "schema2"}) {
            const std::string tag = folder == std::string("first") ? "latest" : "schema2";
            const std::string bytes = read_existing_file(workspace.path() / folder / "manifest.json");
            const auto built = wbclient::Manifest::parse(bytes, "");
            const std::string image = "localhost:" + port + "/hello-workbook:" + tag;
            cleanup.images.push_back(image);
            const RunResult pulled = docker({"pull", image});
            INFO(pulled.out << pulled.err);
            REQUIRE(pulled.exit_code == 0);
            CHECK_THAT(pulled.out, Catch::Contains("Digest: " + wbclient::digest_of(bytes).str()));
            // Docker's image ID is the config's digest: the same image in both formats.
            CHECK(docker({"image", "inspect", "--format", "{{.Id}}", image}).out ==
                  built.config->digest.str() + "\n");
            const RunResult ran = docker({"run", "--rm", "--network", "none", image});
            INFO(ran.out << ran.err);
            CHECK(ran.exit_code == 0);
            CHECK(ran.out == hello_output);
        }
        // What docker asked the registry, in its own user agent's name: per image a HEAD of the
        // tag, then the manifest by digest; blobs only the first time, because the schema2
        // image has the very same config and layer, which docker already holds.
        std::vector<std::string> by_docker;
        for (const auto& e : registry->access_log())
            if (e.user_agent.starts_with("docker/"))
                by_docker.push_back(e.method + " " + e.uri + " " + std::to_string(e.status));
        const auto digest_in = [&](const std::string& folder) {
            return wbclient::digest_of(read_existing_file(workspace.path() / folder / "manifest.json")).str();
        };
        const auto oci = wbclient::Manifest::parse(read_existing_file(workspace.path() / "first/manifest.json"), "");
        REQUIRE(oci.layers.size() == 1);
        std::vector<std::string> expected{
            "GET /v2/ 200", "HEAD /v2/hello-workbook/manifests/latest 200",
            "GET /v2/hello-workbook/manifests/" + digest_in("first") + " 200",
            "GET /v2/hello-workbook/blobs/" + oci.config->digest.str() + " 200",
            "GET /v2/hello-workbook/blobs/" + oci.layers.front().digest.str() + " 200",
            "GET /v2/ 200", "HEAD /v2/hello-workbook/manifests/schema2 200",
            "GET /v2/hello-workbook/manifests/" + digest_in("schema2") + " 200"};
        // The two blob downloads run in parallel; their order is docker's business.
        if (by_docker.size() >= 5) std::sort(by_docker.begin() + 3, by_docker.begin() + 5);
        std::sort(expected.begin() + 3, expected.begin() + 5);
        CHECK(by_docker == expected);
    }
}

namespace {

// A registry that takes blobs and manifests but then misbehaves, as `script_pull` decides.
ScriptedResponse accepting_registry(const std::string& method, const std::string& target,
                                    const ScriptedResponse& put_blob, const ScriptedResponse& get_manifest) {
    if (method == "HEAD") return {.status = 404};
    if (method == "POST")
        return {.status = 202,
                .headers = {{"Location", "/v2/hello-workbook/blobs/uploads/session-1?_state=abc"},
                            {"Range", "0-0"}}};
    if (method == "PUT" && target.find("/blobs/uploads/") != std::string::npos) return put_blob;
    if (method == "PUT") return {.status = 201};
    return get_manifest;
}

ScriptedResponse json_error(unsigned status, const std::string& code, const std::string& message) {
    return {.status = status,
            .headers = {{"Content-Type", "application/json"}},
            .body = R"({"errors":[{"code":")" + code + R"(","message":")" + message + R"("}]})"};
}

// What a folder holds, besides the transcripts of the runs.
std::set<std::string> contents_of(const fs::path& folder) {
    std::set<std::string> names;
    for (const auto& entry : fs::directory_iterator(folder)) {
        const std::string name = entry.path().filename().string();
        if (!name.ends_with(".transcript.jsonl")) names.insert(name);
    }
    return names;
}

}  // namespace

TEST_CASE("chapter 03: bad input gets a one-line error, a non-zero exit and nothing half-written",
          "[chapter03]") {
    Workspace workspace("chapter03-bad");
    auto registry = start_registry({.role = "registry"}, workspace.path());
    const std::string local = registry->host_port();
    const std::string nobody_listens = "127.0.0.1:" + std::to_string(free_loopback_port());
    // The registry goes away mid-push: the session opens (202), the upload's PUT fails.
    ScriptedServer goes_away([](const std::string& method, const std::string& target) {
        return accepting_registry(method, target,
                                  json_error(503, "UNAVAILABLE", "the registry is going away"),
                                  json_error(503, "UNAVAILABLE", "gone"));
    });
    // It takes the whole push, then has no such tag when the image is pulled back.
    ScriptedServer forgets_tags([](const std::string& method, const std::string& target) {
        return accepting_registry(method, target, {.status = 201},
                                  json_error(404, "MANIFEST_UNKNOWN", "manifest unknown"));
    });
    fs::create_directories(workspace.path() / "with-fifo");
    REQUIRE(::mkfifo((workspace.path() / "with-fifo" / "pipe").c_str(), 0644) == 0);
    const std::string zeros(64, '0');
    const std::set<std::string> before = contents_of(workspace.path());

    struct Case {
        std::vector<std::string> args;
        std::string expected;
    };
    const std::vector<Case> cases = {
        {{local + "/hello-workbook:bad!tag"}, "tag 'bad!tag' must be 1-128 characters"},
        {{local + "/Hello-Workbook:latest"}, "name component 'Hello-Workbook' must be lower-case"},
        {{"--label", "no-equals-sign", local + "/hello-workbook"}, "label 'no-equals-sign' is not key=value"},
        {{"--label", "=value", local + "/hello-workbook"}, "label '=value' is not key=value"},
        {{"--frobnicate"}, "unexpected argument '--frobnicate'; usage: "},
        {{local + "/hello-workbook", "out", "third"}, "unexpected argument 'third'"},
        {{"--add", "no-such-folder", local + "/hello-workbook"}, "no-such-folder is not a directory"},
        {{"--add", "with-fifo", local + "/hello-workbook"}, "with-fifo/pipe is not a file, a folder or a symlink"},
        {{nobody_listens + "/hello-workbook"}, "HEAD http://" + nobody_listens + "/v2/hello-workbook/blobs/sha256:"},
        // The registry checks a manifest pushed by digest against that digest.
        {{local + "/hello-workbook@sha256:" + zeros},
         "/manifests/sha256:" + zeros + ": 400 Bad Request, DIGEST_INVALID"},
        {{goes_away.host_port() + "/hello-workbook"},
         "PUT http://" + goes_away.host_port() +
             "/v2/hello-workbook/blobs/uploads/session-1?_state=abc&digest=sha256:"},
        {{forgets_tags.host_port() + "/hello-workbook"},
         "GET http://" + forgets_tags.host_port() + "/v2/hello-workbook/manifests/latest: 404 Not Found, "
         "MANIFEST_UNKNOWN (manifest unknown)"},
    };
    for (const auto& c : cases) {
        std::vector<std::string> args = c.args;
        if (args.size() == 1 && !args[0].starts_with("--")) args.push_back("out");
        const ChapterRun run = run_chapter(program, args, workspace);
        INFO(c.args.back() << ": " << run.result.err);
        check_refused(program, run.result, c.expected);
        // Nothing but what the test put there: no work folder, no temporary sibling.
        CHECK(contents_of(workspace.path()) == before);
    }
    // The 503 came at the first upload: nothing after it was attempted.
    const auto gone = goes_away.requests();
    REQUIRE(gone.size() == 3);
    CHECK_THAT(gone.back(), Catch::StartsWith("PUT /v2/hello-workbook/blobs/uploads/session-1"));
    // The forgetful one took two blobs and the manifest before the pull found nothing.
    const auto forgotten = forgets_tags.requests();
    CHECK(std::count_if(forgotten.begin(), forgotten.end(),
                        [](const std::string& r) { return r.starts_with("PUT "); }) == 3);
    REQUIRE_FALSE(forgotten.empty());
    CHECK(forgotten.back() == "GET /v2/hello-workbook/manifests/latest");
}

TEST_CASE("chapter 03: a folder with an unreadable file is refused before anything is written",
          "[chapter03]") {
    Workspace workspace("chapter03-unreadable");
    auto registry = start_registry({.role = "registry"}, workspace.path());
    // Root reads any file, so as root the program runs as "nobody" (setpriv, util-linux).
    const bool as_root = ::geteuid() == 0;
    const fs::path folder = workspace.path() / "as-user";
    fs::create_directories(folder / "extra");
    std::ofstream(folder / "extra" / "readable.txt") << "fine\n";
    std::ofstream(folder / "extra" / "secret.txt") << "not for you\n";
    fs::permissions(workspace.path(), fs::perms(0755));
    fs::permissions(folder, fs::perms(0777));
    fs::permissions(folder / "extra" / "secret.txt", fs::perms::none);

    // "nobody" may not be able to walk into the build tree (a checkout under a 0700 folder):
    // it runs copies of the program and of hello from the workspace instead.
    const fs::path binaries = workspace.path() / "bin";
    fs::create_directories(binaries);
    fs::permissions(binaries, fs::perms(0755));
    fs::copy_file(chapter_program(program), binaries / program);
    fs::copy_file(chapter_program("hello"), binaries / "hello");
    std::vector<std::string> argv{(binaries / program).string(), "--add", "extra",
                                  registry->host_port() + "/hello-workbook:latest", "out"};
    if (as_root)
        argv.insert(argv.begin(), {"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"});
    const RunResult run = run_program(
        argv, {.environment = {{"WORKBOOK_HELLO_PROGRAM", (binaries / "hello").string()}},
               .working_directory = folder});
    INFO(run.out << run.err);
    CHECK(run.exit_code == 1);
    CHECK(is_one_line(run.err));
    CHECK(run.err == program + ": cannot read extra/secret.txt: Permission denied\n");
    CHECK(run.out.empty());
    CHECK(contents_of(folder) == std::set<std::string>{"extra"});
    CHECK(contents_of(binaries) == std::set<std::string>{program, "hello"});
    // Nothing reached the registry.
    const auto log = registry->access_log();
    CHECK(std::none_of(log.begin(), log.end(), [](const ObservedExchange& e) {
        return e.uri.starts_with("/v2/hello-workbook/");
    }));
}

TEST_CASE("chapter 03: a corrupted blob in the registry fails the pull and keeps the last good folder",
          "[chapter03]") {
    Workspace workspace("chapter03-corrupt");
    auto registry = start_registry({.role = "registry"}, workspace.path());
    const std::vector<std::string> args{registry->host_port() + "/hello-workbook:latest", "hello-workbook"};
    REQUIRE(run_chapter(program, args, workspace).result.exit_code == 0);
    const fs::path work = workspace.path() / "hello-workbook";
    const std::string manifest_before = read_existing_file(work / "manifest.json");
    const auto layers = wbclient::Manifest::parse(manifest_before, "").layers;
    REQUIRE(layers.size() == 1);
    const auto layer = layers.front();

    // Flip one byte of the layer in the registry's storage: it still claims the old digest.
    flip_byte(registry->blob_data(layer.digest), 1000);

    const ChapterRun run = run_chapter(program, args, workspace);
    INFO(run.result.out << run.result.err);
    CHECK(run.result.exit_code == 1);
    CHECK(is_one_line(run.result.err));
    CHECK_THAT(run.result.err, Catch::Contains("blob " + layer.digest.str() + " arrived with digest sha256:"));
    // The push found the (corrupted) blob in place and uploaded nothing; the pull caught it.
    CHECK(select(run.transcript, "POST").empty());
    const auto layer_heads = select(run.transcript, "HEAD", "/v2/hello-workbook/blobs/" + layer.digest.str());
    REQUIRE(layer_heads.size() == 1);
    CHECK(layer_heads.front().status == 200);
    // The previous run's folder is untouched, and no temporary folder is left.
    CHECK(read_existing_file(work / "manifest.json") == manifest_before);
    CHECK(wbclient::same_contents(work / "rootfs/hello", chapter_program("hello")));
    CHECK_FALSE(has_partial_leftovers(workspace.path()));
}

namespace {

// A hand-made layer with libarchive, for the extractor's refusals.
struct RawEntry {
    std::string path;
    mode_t type = AE_IFREG;
    std::string content;
    std::string symlink;
    std::string hardlink;
};

struct ArchiveWriteFree {
    void operator()(archive* a) const { archive_write_free(a); }
};

void write_layer(const fs::path& file, const std::vector<RawEntry>& entries) {
    std::unique_ptr<archive, ArchiveWriteFree> tar(archive_write_new());
    archive_write_set_format_pax_restricted(tar.get());
    archive_write_add_filter_gzip(tar.get());
    REQUIRE(archive_write_open_filename(tar.get(), file.c_str()) == ARCHIVE_OK);
    for (const auto& e : entries) {
        std::unique_ptr<archive_entry, void (*)(archive_entry*)> entry(archive_entry_new(), archive_entry_free);
        archive_entry_set_pathname(entry.get(), e.path.c_str());
        archive_entry_set_filetype(entry.get(), e.type);
        archive_entry_set_perm(entry.get(), e.type == AE_IFDIR ? 0755 : 0644);
        if (!e.symlink.empty()) archive_entry_set_symlink(entry.get(), e.symlink.c_str());
        if (!e.hardlink.empty()) archive_entry_set_hardlink(entry.get(), e.hardlink.c_str());
        if (e.type == AE_IFCHR) archive_entry_set_rdev(entry.get(), makedev(1, 3));
        archive_entry_set_size(entry.get(), static_cast<la_int64_t>(e.content.size()));
        REQUIRE(archive_write_header(tar.get(), entry.get()) == ARCHIVE_OK);
        if (!e.content.empty())
            REQUIRE(archive_write_data(tar.get(), e.content.data(), e.content.size()) ==
                    static_cast<la_ssize_t>(e.content.size()));
    }
    REQUIRE(archive_write_close(tar.get()) == ARCHIVE_OK);
}

}  // namespace

TEST_CASE("chapter 03: the extractor refuses every way out of its folder, and writes nothing then",
          "[chapter03]") {
    Workspace workspace("chapter03-extract");
    const fs::path base = workspace.path() / "base";
    fs::create_directories(base / "sub");
    std::ofstream(base / "outside.txt") << "precious\n";
    const fs::path layer = workspace.path() / "layer.tar.gz";

    struct Case {
        std::string name;
        std::vector<RawEntry> entries;
        std::string expected;
        wbclient::ExtractionLimits limits = {};
    };
    const RawEntry file_a{.path = "a", .content = "aaa"};
    const std::vector<Case> cases = {
        {"dot-dot", {{.path = "../outside.txt", .content = "evil"}}, "entry '../outside.txt' climbs out with '..'"},
        {"dot-dot inside", {{.path = "x/../../outside.txt", .content = "evil"}}, "climbs out with '..'"},
        {"absolute", {{.path = "/tmp/evil", .content = "evil"}}, "entry '/tmp/evil' is an absolute path"},
        {"symlink up", {{.path = "link", .type = AE_IFLNK, .symlink = "../outside.txt"}},
         "entry 'link' is a symlink to ../outside.txt, which points outside the layer"},
        {"symlink up later", {{.path = "d/link", .type = AE_IFLNK, .symlink = "x/../../../outside.txt"}},
         "points outside the layer"},
        {"symlink absolute", {{.path = "link", .type = AE_IFLNK, .symlink = "/etc/passwd"}},
         "is a symlink to the absolute path /etc/passwd"},
        {"through a symlink",
         {{.path = "real", .type = AE_IFDIR}, {.path = "link", .type = AE_IFLNK, .symlink = "real"},
          {.path = "link/file", .content = "x"}},
         "entry 'link/file' would be written through the symlink link"},
        {"hardlink up", {file_a, {.path = "h", .hardlink = "../outside.txt"}}, "hard link target climbs out with '..'"},
        {"hardlink absolute", {{.path = "h", .hardlink = "/etc/passwd"}}, "hard link target is an absolute path"},
        {"hardlink to nothing", {{.path = "h", .hardlink = "missing"}},
         "entry 'h' is a hard link to 'missing', which is not a file extracted before it"},
        {"device", {{.path = "dev/null", .type = AE_IFCHR}}, "entry 'dev/null' is a device node"},
        {"fifo", {{.path = "pipe", .type = AE_IFIFO}}, "entry 'pipe' is a fifo, a socket or of unknown type"},
        {"too big", {file_a, {.path = "big", .content = std::string(2000, 'x')}},
         "entry 'big' would take the layer past its limit of 1000 bytes", {.max_total_bytes = 1000}},
        {"too many", {file_a, {.path = "b"}, {.path = "c"}}, "has more than 2 entries", {.max_entries = 2}},
    };
    for (const auto& c : cases) {
        INFO(c.name);
        write_layer(layer, c.entries);
        std::string error;
        try {
            wbclient::extract_layer(layer, base / "sub" / "rootfs", c.limits);
        } catch (const std::exception& e) {
            error = e.what();
        }
        CHECK_THAT(error, Catch::StartsWith("layer layer.tar.gz") && Catch::Contains(c.expected));
        CHECK(error.find('\n') == std::string::npos);
        CHECK_FALSE(fs::exists(base / "sub" / "rootfs"));
        CHECK(contents_of(base) == std::set<std::string>{"outside.txt", "sub"});
        CHECK(fs::is_empty(base / "sub"));
        CHECK(read_existing_file(base / "outside.txt") == "precious\n");
    }

    SECTION("not a layer at all") {
        std::ofstream(layer, std::ios::trunc) << "this is not gzip, nor a tar\n";
        CHECK_THROWS_WITH(wbclient::extract_layer(layer, base / "sub" / "rootfs"),
                          Catch::StartsWith("layer layer.tar.gz: "));
        CHECK(fs::is_empty(base / "sub"));
    }
    SECTION("what it does accept: folders, files, hard links, symlinks that stay inside") {
        write_layer(layer, {{.path = "./etc", .type = AE_IFDIR}, {.path = "etc/a", .content = "aaa"},
                            {.path = "etc/b", .hardlink = "etc/a"},
                            {.path = "etc/c", .type = AE_IFLNK, .symlink = "../etc/./a"},
                            {.path = "etc/c", .content = "replaces the symlink"}});
        const auto extracted = wbclient::extract_layer(layer, base / "sub" / "rootfs");
        CHECK(extracted.entries == 5);
        const fs::path rootfs = base / "sub" / "rootfs";
        CHECK(read_existing_file(rootfs / "etc/b") == "aaa");
        CHECK(fs::equivalent(rootfs / "etc/a", rootfs / "etc/b"));
        CHECK_FALSE(fs::is_symlink(rootfs / "etc/c"));
        CHECK(read_existing_file(rootfs / "etc/c") == "replaces the symlink");
        CHECK(read_existing_file(rootfs / "etc/a") == "aaa");
        CHECK(contents_of(base / "sub") == std::set<std::string>{"rootfs"});
        CHECK_THROWS_WITH(wbclient::extract_layer(layer, rootfs), Catch::Contains("already exists"));
    }
}

TEST_CASE("chapter 03: the image it builds, unpacked by our library, is the rootfs umoci unpacks", "[chapter03]") {
    Workspace workspace("chapter03-umoci");
    auto registry = start_registry({.role = "registry"}, workspace.path());
    make_extra_files(workspace.path() / "extra");
    const std::string image = registry->host_port() + "/hello-workbook:latest";
    const ChapterRun run = run_chapter(program, {"--add", "extra", image, "hello-workbook"}, workspace);
    INFO(run.result.out << run.result.err);
    REQUIRE(run.result.exit_code == 0);

    const auto layout = test_support::copy_to_layout(image, workspace.path() / "hello.layout", "latest");
    const auto tree = test_support::check_same_rootfs_as_umoci(layout, "latest", workspace.path() / "unpacked");
    CHECK(tree.at("etc/motd") == "777 symlink -> greeting.txt");
    CHECK(tree.count("README"));
}
