// Chapter 02: given a registry holding my-busybox:latest (Docker schema2), when the program takes
// it apart, then every request got the status and headers the chapter describes, from the
// client's view and the registry's own, and the layer lists busybox's files. Plus: the layer
// reader's limits, and bad input.
#include "child_process.hpp"
#include "test_support.hpp"
#include "busybox_image.hpp"
#include "chapter_run.hpp"
#include "registry_instance.hpp"
#include "scripted_server.hpp"

#include "wbclient/image/image_builder.hpp"
#include "wbclient/image/layer_builder.hpp"
#include "wbclient/image/layer_reader.hpp"

#include <catch2/catch.hpp>

#include <openssl/evp.h>

#include <algorithm>
#include <fstream>
#include <set>

using namespace harness;
namespace fs = std::filesystem;
namespace media_type = wbclient::media_type;

using namespace test_support;

namespace {

const std::string program = "02_anatomy_of_an_image";

struct SeededRegistry {
    std::unique_ptr<RegistryInstance> registry;
    wbclient::FetchedManifest manifest;  // my-busybox:latest as pushed
    nlohmann::json config;
    const wbclient::Descriptor& layer() const { return manifest.parsed.layers.at(0); }
    const wbclient::Descriptor& config_blob() const { return *manifest.parsed.config; }
};

SeededRegistry seeded_registry(const Workspace& workspace) {
    auto registry = start_registry({.role = "registry"}, workspace.path());
    wbclient::RegistryClient client(registry->host_port());
    seed_busybox(client, "my-busybox", "latest");
    auto manifest = client.get_manifest("my-busybox", "latest");
    std::string config;
    client.fetch_blob("my-busybox", *manifest.parsed.config,
                      [&](const char* data, std::size_t n) { config.append(data, n); });
    return {std::move(registry), std::move(manifest), nlohmann::json::parse(config)};
}

std::vector<ObservedExchange> without_harness(std::vector<ObservedExchange> exchanges) {
    std::erase_if(exchanges, [](const ObservedExchange& e) { return e.user_agent == harness_user_agent; });
    return exchanges;
}

std::optional<std::string> request_header(const ObservedExchange& exchange, std::string_view name) {
    for (const auto& [field, value] : exchange.request_headers)
        if (field == name) return value;
    return std::nullopt;
}

std::string base64url_decode(std::string text) {
    for (char& c : text) c = c == '-' ? '+' : c == '_' ? '/' : c;
    const std::size_t padding = (4 - text.size() % 4) % 4;
    text.append(padding, '=');
    std::string bytes(text.size(), '\0');
    const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(bytes.data()),
                                  reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
    REQUIRE(n >= 0);
    bytes.resize(static_cast<std::size_t>(n) - padding);
    return bytes;
}

// What a layer built by LayerBuilder looks like in memory.
// Pushes an image whose one layer is `layer`, with a config naming its diff_id.
void push_image(wbclient::RegistryClient& client, const std::string& repository, const std::string& tag,
                const wbclient::BuiltLayer& layer) {
    client.http().set_user_agent(harness_user_agent);
    client.push_blob(repository, layer.blob, layer.file);
    const nlohmann::json config = {{"architecture", "amd64"}, {"os", "linux"},
                                   {"rootfs", {{"type", "layers"}, {"diff_ids", {layer.diff_id.str()}}}}};
    const std::string config_bytes = config.dump();
    client.push_blob(repository, config_bytes);
    const nlohmann::json manifest = {
        {"schemaVersion", 2}, {"mediaType", media_type::docker_manifest},
        {"config", wbclient::descriptor_to_json({.media_type = std::string(media_type::docker_config),
                                                  .digest = wbclient::digest_of(config_bytes),
                                                  .size = config_bytes.size()})},
        {"layers", {wbclient::descriptor_to_json(layer.blob)}}};
    client.put_manifest(repository, tag, media_type::docker_manifest, manifest.dump());
}

// The registry's own tag list of a repository, asked as the harness.
std::vector<std::string> tags_of(const RegistryInstance& registry, const std::string& repository) {
    wbclient::HttpClient http;
    http.set_user_agent(harness_user_agent);
    const auto listed = http.perform({.url = registry.url() + "/v2/" + repository + "/tags/list"});
    REQUIRE(listed.status == 200);
    std::vector<std::string> tags = nlohmann::json::parse(listed.body).at("tags");
    std::sort(tags.begin(), tags.end());
    return tags;
}

std::set<std::string> files_in(const fs::path& directory) {
    std::set<std::string> names;
    for (const auto& entry : fs::directory_iterator(directory)) names.insert(entry.path().filename().string());
    return names;
}

}  // namespace

TEST_CASE("chapter 02: the anatomy of my-busybox, and how the registry negotiates manifests", "[chapter02]") {
    Workspace workspace("chapter02");
    const SeededRegistry seeded = seeded_registry(workspace);
    const std::string schema2 = seeded.manifest.digest.str();
    const std::string layer = "/v2/my-busybox/blobs/" + seeded.layer().digest.str();
    const std::string scratch = "02-anatomy-scratch/my-busybox";

    // No arguments: the image is <WORKBOOK_REGISTRY>/my-busybox:latest, as in the book.
    const ChapterRun run = run_chapter(program, {}, workspace, {{"WORKBOOK_REGISTRY", seeded.registry->host_port()}});
    INFO(run.result.out << run.result.err);
    REQUIRE(run.result.exit_code == 0);
    CHECK(run.result.err.empty());
    const auto& t = run.transcript;
    INFO("client saw:\n" << summarize(t));

    const std::string expected_sequence =
        "GET /v2/my-busybox/manifests/latest 200\n"
        "HEAD /v2/my-busybox/manifests/latest 200\n"
        "GET /v2/my-busybox/manifests/latest 304\n"
        "GET /v2/my-busybox/blobs/" + seeded.config_blob().digest.str() + " 200\n"
        "HEAD " + layer + " 200\n"
        "GET " + layer + " 206\n"
        "GET " + layer + " 200\n"
        "POST /v2/" + scratch + "/blobs/uploads/ 201\n"
        "POST /v2/" + scratch + "/blobs/uploads/ 201\n"
        "PUT /v2/" + scratch + "/manifests/schema2 201\n"
        "PUT /v2/" + scratch + "/manifests/oci 201\n"
        "PUT /v2/" + scratch + "/manifests/list 201\n"
        "GET /v2/" + scratch + "/manifests/oci 404\n"
        "GET /v2/" + scratch + "/manifests/oci 200\n"
        "GET /v2/" + scratch + "/manifests/schema2 200\n"
        "GET /v2/" + scratch + "/manifests/list 200\n"
        "GET /v2/" + scratch + "/manifests/list 200\n";
    REQUIRE(summarize(t) == expected_sequence);

    SECTION("the manifest: its digest is the sha256 of its bytes; HEAD has no body; If-None-Match gives 304") {
        CHECK(t[0].response_header("Content-Type") == std::string(media_type::docker_manifest));
        CHECK(t[0].response_header("Docker-Content-Digest") == schema2);
        CHECK(t[0].bytes_received == seeded.manifest.bytes.size());
        CHECK_THAT(run.result.out, Catch::Contains("sha256 of those bytes: " + schema2 + " (the same)"));
        // The exact bytes are shown, not a re-serialisation.
        CHECK_THAT(run.result.out, Catch::Contains(seeded.manifest.bytes));

        CHECK(t[1].bytes_received == 0);
        CHECK(t[1].response_header("Content-Length") == std::to_string(seeded.manifest.bytes.size()));
        CHECK(t[1].response_header("Docker-Content-Digest") == schema2);

        CHECK(t[0].response_header("Etag") == "\"" + schema2 + "\"");
        CHECK(request_header(t[2], "If-None-Match") == "\"" + schema2 + "\"");
        CHECK(t[2].status == 304);
        CHECK(t[2].bytes_received == 0);
    }

    SECTION("the blobs: config whole, layer HEAD, a 206 Range of two bytes, then the layer whole") {
        CHECK(t[3].bytes_received == seeded.config_blob().size);
        CHECK(t[4].bytes_received == 0);
        CHECK(t[4].response_header("Content-Length") == std::to_string(seeded.layer().size));
        CHECK(t[4].response_header("Accept-Ranges") == "bytes");
        CHECK(request_header(t[5], "Range") == "bytes=0-1");
        CHECK(t[5].response_header("Content-Range") == "bytes 0-1/" + std::to_string(seeded.layer().size));
        CHECK(t[5].bytes_received == 2);
        CHECK_THAT(run.result.out, Catch::Contains(": 1f 8b\n"));  // gzip's magic number
        CHECK(t[6].bytes_received == seeded.layer().size);
    }

    SECTION("the layer's files: busybox, its applet links, tmp/; the tar's sha256 is the config's diff_id") {
        const auto busybox_size = fs::file_size("/bin/busybox");
        CHECK_THAT(run.result.out, Catch::Contains("-rwxr-xr-x " + std::string(10 - std::to_string(busybox_size).size(), ' ') +
                                                   std::to_string(busybox_size) + " bin/busybox\n"));
        CHECK_THAT(run.result.out, Catch::Contains("lrwxrwxrwx          0 bin/sh -> busybox\n"));
        CHECK_THAT(run.result.out, Catch::Contains("drwxrwxrwt          0 tmp/\n"));
        const std::string diff_id = seeded.config["rootfs"]["diff_ids"][0];
        CHECK_THAT(run.result.out, Catch::Contains("sha256 of the tar:   " + diff_id));
        CHECK_THAT(run.result.out, Catch::Contains("the config's diff_id: " + diff_id + " (the same)"));
    }

    SECTION("the scratch repository: the blobs mounted (no bytes), three manifests over them") {
        const std::string from = "&from=my-busybox";
        CHECK(t[7].uri.ends_with("?mount=" + seeded.config_blob().digest.str() + from));
        CHECK(t[8].uri.ends_with("?mount=" + seeded.layer().digest.str() + from));
        for (const std::size_t i : {7, 8}) CHECK(t[i].bytes_sent == 0);
        CHECK(request_header(t[9], "Content-Type") == std::string(media_type::docker_manifest));
        CHECK(request_header(t[10], "Content-Type") == std::string(media_type::oci_manifest));
        CHECK(request_header(t[11], "Content-Type") == std::string(media_type::docker_manifest_list));
        CHECK_THAT(run.result.out, Catch::Contains("== Content negotiation, in the scratch repository " + scratch +
                                                   "\nMounted 2 blobs from my-busybox (no bytes sent)\n"));
    }

    SECTION("OCI: a 404 MANIFEST_UNKNOWN with Accept */*, served when Accept names the OCI type") {
        const auto oci_digest = t[10].response_header("Docker-Content-Digest");
        REQUIRE(oci_digest);
        CHECK(*oci_digest != schema2);
        CHECK(request_header(t[12], "Accept") == "*/*");
        CHECK_THAT(run.result.out, Catch::Contains(
            R"({"errors":[{"code":"MANIFEST_UNKNOWN","message":"OCI manifest found, but accept header does not support OCI manifests"}]})"));
        CHECK(request_header(t[13], "Accept") == std::string(media_type::oci_manifest));
        CHECK(t[13].response_header("Content-Type") == std::string(media_type::oci_manifest));
        CHECK(t[13].response_header("Docker-Content-Digest") == oci_digest);
    }

    SECTION("schema1: by tag with Accept */*, signed schema1 under another digest, that of the unsigned payload") {
        const auto scratch_schema2 = t[9].response_header("Docker-Content-Digest");
        REQUIRE(scratch_schema2);
        CHECK(request_header(t[14], "Accept") == "*/*");
        CHECK(t[14].response_header("Content-Type") == "application/vnd.docker.distribution.manifest.v1+prettyjws");
        const auto schema1_digest = t[14].response_header("Docker-Content-Digest");
        REQUIRE(schema1_digest);
        CHECK(*schema1_digest != *scratch_schema2);
        CHECK_THAT(run.result.out, Catch::Contains("schemaVersion 1, fsLayers 1, history 1, signatures 1"));

        // The digest covers the JSON without its signatures: the first formatLength bytes plus
        // formatTail, as the signature's protected header says. Fetch it again to check.
        wbclient::HttpClient http;
        http.set_user_agent(harness_user_agent);
        wbclient::Request request{.url = seeded.registry->url() + "/v2/" + scratch + "/manifests/schema2"};
        request.headers.add("Accept", "*/*");
        const auto again = http.perform(request);
        REQUIRE(again.status == 200);
        CHECK(again.headers.get("Docker-Content-Digest") == schema1_digest);
        CHECK(wbclient::digest_of(again.body).str() != *schema1_digest);
        const auto signed_json = nlohmann::json::parse(again.body);
        const auto protected_header =
            nlohmann::json::parse(base64url_decode(signed_json["signatures"][0]["protected"]));
        const std::string payload = again.body.substr(0, protected_header["formatLength"].get<std::size_t>()) +
                                    base64url_decode(protected_header["formatTail"]);
        CHECK(wbclient::digest_of(payload).str() == *schema1_digest);
    }

    SECTION("manifest list: only the schema2 type in Accept gets the linux/amd64 child") {
        const auto scratch_schema2 = t[9].response_header("Docker-Content-Digest");
        const auto list_digest = t[11].response_header("Docker-Content-Digest");
        REQUIRE(list_digest);
        CHECK(request_header(t[15], "Accept") == std::string(media_type::docker_manifest));
        CHECK(t[15].response_header("Content-Type") == std::string(media_type::docker_manifest));
        CHECK(t[15].response_header("Docker-Content-Digest") == scratch_schema2);
        CHECK(t[15].bytes_received == t[9].bytes_sent);
        CHECK(t[16].response_header("Content-Type") == std::string(media_type::docker_manifest_list));
        CHECK(t[16].response_header("Docker-Content-Digest") == list_digest);
    }

    SECTION("the inspected repository is unchanged: only GETs and HEADs reached it, its tags are as seeded") {
        for (const auto& e : without_harness(seeded.registry->access_log()))
            if (e.uri.starts_with("/v2/my-busybox/")) CHECK((e.method == "GET" || e.method == "HEAD"));
        CHECK(tags_of(*seeded.registry, "my-busybox") == std::vector<std::string>{"latest"});
        CHECK(tags_of(*seeded.registry, scratch) == std::vector<std::string>{"list", "oci", "schema2"});
    }

    SECTION("the registry's own log: the same requests, statuses and bytes written") {
        const auto log = without_harness(seeded.registry->access_log());
        INFO("registry logged:\n" << summarize(log));
        REQUIRE(summarize(log) == expected_sequence);
        // Registry 2.8.2 logs a manifest HEAD with the bytes a GET would write (Go's server drops
        // them: the client got 0), a blob HEAD with 0.
        CHECK(log[1].bytes_received == seeded.manifest.bytes.size());
        CHECK(log[4].bytes_received == 0);
        CHECK(log[2].bytes_received == 0);   // 304
        CHECK(log[5].bytes_received == 2);   // 206
        CHECK(log[6].bytes_received == seeded.layer().size);
        CHECK(log[12].error_code == "manifest unknown");
        for (const auto& e : log) CHECK(e.user_agent == wbclient::HttpClient::default_user_agent);
    }
}

TEST_CASE("chapter 02: an OCI image as skopeo pushes it, and an OCI index of it, are taken apart and left as they were",
          "[chapter02]") {
    Workspace workspace("chapter02-oci");
    const SeededRegistry seeded = seeded_registry(workspace);
    const std::string host = seeded.registry->host_port();
    // skopeo --format oci: what buildah and podman push by default.
    const RunResult copied = run_program({"skopeo", "copy", "--quiet", "--format", "oci", "--src-tls-verify=false",
                                          "--dest-tls-verify=false", "docker://" + host + "/my-busybox:latest",
                                          "docker://" + host + "/oci-busybox:latest"});
    INFO(copied.out << copied.err);
    REQUIRE(copied.exit_code == 0);
    wbclient::RegistryClient client(host);
    client.http().set_user_agent(harness_user_agent);
    const auto oci = client.get_manifest("oci-busybox", "latest");
    REQUIRE(oci.media_type == media_type::oci_manifest);
    REQUIRE(oci.parsed.config->media_type == media_type::oci_config);
    const nlohmann::json index = {
        {"schemaVersion", 2}, {"mediaType", media_type::oci_index},
        {"manifests", {wbclient::descriptor_to_json({.media_type = oci.media_type, .digest = oci.digest,
                                                     .size = oci.bytes.size(),
                                                     .platform = wbclient::Platform{
                                                         .os = "linux",
                                                         .architecture = std::string(wbclient::host_architecture())}})}}};
    const auto index_digest = client.put_manifest("oci-busybox", "index", media_type::oci_index, index.dump());
    const std::size_t logged_before = seeded.registry->access_log().size();
    const std::string diff_id = seeded.config["rootfs"]["diff_ids"][0];

    const ChapterRun image_run = run_chapter(program, {host + "/oci-busybox:latest"}, workspace);
    INFO(image_run.result.out << image_run.result.err);
    REQUIRE(image_run.result.exit_code == 0);
    CHECK_THAT(image_run.result.out, Catch::Contains("GET: 200 OK, " + std::string(media_type::oci_manifest)));
    CHECK_THAT(image_run.result.out, Catch::Contains("sha256 of those bytes: " + oci.digest.str() + " (the same)"));
    CHECK_THAT(image_run.result.out, Catch::Contains(" bin/busybox\n"));
    CHECK_THAT(image_run.result.out, Catch::Contains("the config's diff_id: " + diff_id + " (the same)"));
    CHECK_THAT(image_run.result.out, Catch::Contains("in the scratch repository 02-anatomy-scratch/oci-busybox\n"));

    const ChapterRun index_run = run_chapter(program, {host + "/oci-busybox:index"}, workspace);
    INFO(index_run.result.out << index_run.result.err);
    REQUIRE(index_run.result.exit_code == 0);
    CHECK_THAT(index_run.result.out, Catch::Contains("GET: 200 OK, " + std::string(media_type::oci_index)));
    CHECK_THAT(index_run.result.out, Catch::Contains("sha256 of those bytes: " + index_digest.str() + " (the same)"));
    CHECK_THAT(index_run.result.out, Catch::Contains("An index of 1 images; this machine's (linux/" +
                                                     std::string(wbclient::host_architecture()) + "), by digest:"));
    CHECK_THAT(index_run.result.out, Catch::Contains("the config's diff_id: " + diff_id + " (the same)"));
    CHECK(summarize(index_run.transcript).starts_with("GET /v2/oci-busybox/manifests/index 200\n"
                                                      "GET /v2/oci-busybox/manifests/" + oci.digest.str() + " 200\n"
                                                      "HEAD /v2/oci-busybox/manifests/index 200\n"));

    // The inspected repository only read, by the registry's log and its tag list.
    const auto log = seeded.registry->access_log();
    REQUIRE(log.size() > logged_before);
    for (std::size_t i = logged_before; i < log.size(); ++i)
        if (log[i].uri.starts_with("/v2/oci-busybox/")) CHECK((log[i].method == "GET" || log[i].method == "HEAD"));
    CHECK(tags_of(*seeded.registry, "oci-busybox") == std::vector<std::string>{"index", "latest"});
    CHECK(tags_of(*seeded.registry, "02-anatomy-scratch/oci-busybox") ==
          std::vector<std::string>{"list", "oci", "schema2"});
}

TEST_CASE("chapter 02: the layer reader lists entries, checks the diff_id and respects its limits", "[chapter02]") {
    Workspace workspace("chapter02-layers");

    wbclient::LayerBuilder builder;
    builder.add_directory("etc");
    builder.add_file("etc/motd", "hello\n", 0644);
    builder.add_symlink("etc/greeting", "motd");
    builder.add_file("etc/setuid", "x", 04755);
    const auto built = builder.write(workspace.path() / "small.tar.gz");
    const std::string small = harness::read_whole_file(built.file);

    SECTION("entries, in tar order, with type, size, mode and link target; the tar's sha256 is the diff_id") {
        const auto listing = wbclient::list_layer(small);
        REQUIRE(listing.entries.size() == 4);
        CHECK(listing.diff_id == built.diff_id);
        CHECK(listing.uncompressed_size % 512 == 0);
        const auto& motd = listing.entries[2];
        CHECK(motd.path == "etc/motd");
        CHECK(motd.type == wbclient::LayerEntry::Type::file);
        CHECK(motd.size == 6);
        CHECK(motd.mode == 0644);
        const auto& link = listing.entries[1];
        CHECK(link.type == wbclient::LayerEntry::Type::symlink);
        CHECK(link.link_target == "motd");
        CHECK(wbclient::describe(link) == "lrwxrwxrwx          0 etc/greeting -> motd");
        CHECK(wbclient::describe(listing.entries[3]) == "-rwsr-xr-x          1 etc/setuid");
        CHECK(wbclient::describe(listing.entries[0]) == "drwxr-xr-x          0 etc/");
    }

    SECTION("a gzip bomb stops at the limit, long before its compressed bytes are all read") {
        const fs::path zeros = workspace.path() / "zeros";
        std::ofstream(zeros).close();
        fs::resize_file(zeros, std::uint64_t{256} << 20);  // sparse: 256 MiB of zeros
        wbclient::LayerBuilder bomb_builder;
        bomb_builder.add_file_from("zeros", zeros, 0644);
        const std::string bomb = harness::read_whole_file(bomb_builder.write(workspace.path() / "bomb.tar.gz").file);
        REQUIRE(bomb.size() < (std::size_t{1} << 20));

        // Hand out 4 KiB at a time, so how far the reader got is visible.
        std::size_t offset = 0;
        const wbclient::BodySource source = [&](char* buffer, std::size_t capacity) {
            const std::size_t n = std::min({capacity, std::size_t{4096}, bomb.size() - offset});
            std::copy_n(bomb.data() + offset, n, buffer);
            offset += n;
            return n;
        };
        CHECK_THROWS_WITH(wbclient::list_layer(source, {.max_uncompressed_bytes = 4 << 20}),
                          "layer expands beyond the limit of 4194304 uncompressed bytes; refusing to read further");
        CHECK(offset < bomb.size() / 4);
        // With room enough, the same bytes list fine.
        CHECK(wbclient::list_layer(bomb, {.max_uncompressed_bytes = 300 << 20}).entries.size() == 1);
    }

    SECTION("too many entries, data that is not gzip, and a truncated layer are refused in one line") {
        wbclient::LayerBuilder many;
        for (int i = 0; i < 20; ++i) many.add_symlink("link" + std::to_string(i), "target");
        const std::string crowded = harness::read_whole_file(many.write(workspace.path() / "many.tar.gz").file);
        CHECK_THROWS_WITH(wbclient::list_layer(crowded, {.max_entries = 10}),
                          "layer has more than 10 entries; refusing to read further");
        CHECK_THROWS_WITH(wbclient::list_layer(std::string_view("plain text, not gzip")),
                          "layer is not gzip-compressed");
        CHECK_THROWS_WITH(wbclient::list_layer(std::string_view()), Catch::Contains("layer"));
        try {
            wbclient::list_layer(std::string_view(small).substr(0, small.size() / 2));
            FAIL("a truncated layer was listed");
        } catch (const std::runtime_error& error) {
            const std::string message = error.what();
            INFO(message);
            CHECK(message.starts_with("layer"));
            CHECK(message.find('\n') == std::string::npos);
        }
    }
}

TEST_CASE("chapter 02: a gzip bomb in the registry gets a one-line error, not all the memory", "[chapter02]") {
    Workspace workspace("chapter02-bomb");
    // About 1 MiB of gzip that expands past the program's 1 GiB limit. Built before the
    // registry starts: compressing it takes a few seconds.
    const fs::path zeros = workspace.path() / "zeros";
    std::ofstream(zeros).close();
    fs::resize_file(zeros, (std::uint64_t{1} << 30) + (std::uint64_t{64} << 20));  // sparse
    wbclient::LayerBuilder builder;
    builder.add_file_from("zeros", zeros, 0644);
    const auto layer = builder.write(workspace.path() / "bomb.tar.gz", media_type::docker_layer_gzip);
    fs::remove(zeros);
    auto registry = start_registry({.role = "registry"}, workspace.path());
    wbclient::RegistryClient client(registry->host_port());
    push_image(client, "bomb", "latest", layer);

    const ChapterRun run = run_chapter(program, {registry->host_port() + "/bomb:latest"}, workspace);
    CHECK(run.result.exit_code == 1);
    CHECK_FALSE(run.result.timed_out);
    CHECK(is_one_line(run.result.err));
    CHECK(run.result.err == program + ": layer expands beyond the limit of 1073741824 uncompressed bytes; "
                                      "refusing to read further\n");
    // It stopped before pushing anything.
    CHECK(select(without_harness(registry->access_log()), "PUT").empty());
}

TEST_CASE("chapter 02: bad input gets a one-line error, a non-zero exit, and writes nothing", "[chapter02]") {
    Workspace workspace("chapter02-bad");
    const SeededRegistry seeded = seeded_registry(workspace);
    const std::string host = seeded.registry->host_port();
    // Manifests over my-busybox's blobs that are not images this chapter can take apart.
    {
        wbclient::RegistryClient client(host);
        client.http().set_user_agent(harness_user_agent);
        nlohmann::json chart = nlohmann::json::parse(seeded.manifest.bytes);
        chart["mediaType"] = media_type::oci_manifest;
        chart["config"]["mediaType"] = "application/vnd.cncf.helm.config.v1+json";
        client.put_manifest("my-busybox", "chart", media_type::oci_manifest, chart.dump());
        nlohmann::json zstd = nlohmann::json::parse(seeded.manifest.bytes);
        zstd["mediaType"] = media_type::oci_manifest;
        zstd["config"]["mediaType"] = media_type::oci_config;
        zstd["layers"][0]["mediaType"] = "application/vnd.oci.image.layer.v1.tar+zstd";
        client.put_manifest("my-busybox", "zstd", media_type::oci_manifest, zstd.dump());
        const wbclient::Descriptor arm{.media_type = seeded.manifest.media_type, .digest = seeded.manifest.digest,
                                       .size = seeded.manifest.bytes.size(),
                                       .platform = wbclient::Platform{.os = "linux", .architecture = "s390x"}};
        const nlohmann::json index = {{"schemaVersion", 2}, {"mediaType", media_type::oci_index},
                                      {"manifests", {wbclient::descriptor_to_json(arm)}}};
        client.put_manifest("my-busybox", "s390x-only", media_type::oci_index, index.dump());
    }

    ScriptedServer broken([](const std::string&, const std::string&) {
        return ScriptedResponse{.status = 500,
                                .headers = {{"Content-Type", "application/json"}},
                                .body = R"({"errors":[{"code":"UNKNOWN","message":"storage is on fire"}]})"};
    });
    const std::string nobody_listens = "127.0.0.1:" + std::to_string(free_loopback_port());
    const std::string digest = seeded.manifest.digest.str();
    struct Case {
        std::string image;
        std::string expected;
    };
    const std::vector<Case> cases = {
        {host + "/my-busybox:no-such-tag", "/v2/my-busybox/manifests/no-such-tag: 404 Not Found, MANIFEST_UNKNOWN"},
        {host + "/nothing-here:latest", "404 Not Found, MANIFEST_UNKNOWN"},
        {host + "/My-Busybox:latest", "name component 'My-Busybox' must be lower-case"},
        {host + "/my-busybox@sha256:abc", "invalid digest 'sha256:abc'"},
        {host + "/my-busybox@" + digest, "name the image by tag, not by digest"},
        {host + "/my-busybox:chart", "has a config of type application/vnd.cncf.helm.config.v1+json: not a container image"},
        {host + "/my-busybox:zstd", "'s first layer is application/vnd.oci.image.layer.v1.tar+zstd; this chapter reads gzipped tar layers"},
        {host + "/my-busybox:s390x-only", "the index has no image for linux/" + std::string(wbclient::host_architecture())},
        {broken.host_port() + "/my-busybox:latest", "500 Internal Server Error, UNKNOWN (storage is on fire)"},
        {nobody_listens + "/my-busybox:latest", "Couldn't connect to server"},
    };
    const auto writes = [&] {
        std::size_t count = 0;
        for (const auto& e : without_harness(seeded.registry->access_log()))
            if (e.method != "GET" && e.method != "HEAD") ++count;
        return count;
    };
    const std::size_t writes_before = writes();
    auto files_before = files_in(workspace.path());
    for (const auto& c : cases) {
        const ChapterRun run = run_chapter(program, {c.image}, workspace);
        INFO(c.image << ": " << run.result.err);
        check_refused(program, run.result, c.expected);
        CHECK(run.result.out.empty());
        // Nothing written: no push to the registry, no file beside the transcripts.
        CHECK(writes() == writes_before);
        auto files_after = files_in(workspace.path());
        std::erase_if(files_after, [](const std::string& name) { return name.ends_with(".transcript.jsonl"); });
        std::erase_if(files_before, [](const std::string& name) { return name.ends_with(".transcript.jsonl"); });
        CHECK(files_after == files_before);
    }
    CHECK(broken.requests() == std::vector<std::string>{"GET /v2/my-busybox/manifests/latest"});
}
