// Chapter 09: given an empty registry, when the program builds one image for linux/amd64 and
// linux/arm64, pushes both under an OCI index and a Docker manifest list and pulls linux/arm64,
// then each image holds its own platform's files and config, the children went up by digest
// before the indexes, the registry answered Accept headers without an index type as the
// chapter says, the pull fetched the arm64 image and nothing of the amd64 one, and skopeo (and,
// in the compose run, docker) read the same digests. Garbage collection with
// --delete-untagged then leaves the index dangling; plain garbage collection does not.
#include "test_support.hpp"
#include "chapter_run.hpp"
#include "rootfs_comparison.hpp"
#include "registry_instance.hpp"

#include "wbclient/model/digest.hpp"
#include "wbclient/image/image_builder.hpp"
#include "wbclient/transfer/image_transfer.hpp"
#include "wbclient/image/index_builder.hpp"
#include "wbclient/image/layer_extractor.hpp"
#include "wbclient/model/manifest.hpp"
#include "wbclient/image/oci_layout.hpp"
#include "wbclient/model/platform.hpp"

#include <catch2/catch.hpp>
#include <strings.h>

#include <fstream>
#include <set>

using namespace harness;
namespace fs = std::filesystem;

using namespace test_support;

namespace {

const std::string program = "09_multi_platform_images";
const std::string repository = "multi-platform-hello";

// The first exchange for exactly `uri` (no prefix match: "latest" is not "latest-docker").
std::size_t exactly(const std::vector<ObservedExchange>& exchanges, const std::string& method,
                    const std::string& uri, std::size_t from = 0) {
    for (std::size_t i = from; i < exchanges.size(); ++i)
        if (exchanges[i].method == method && exchanges[i].uri == uri) return i;
    FAIL("no " << method << " " << uri << " after #" << from << " in\n" << summarize(exchanges));
    return 0;
}

std::optional<std::string> request_header(const ObservedExchange& exchange, const std::string& name) {
    for (const auto& [key, value] : exchange.request_headers)
        if (strcasecmp(key.c_str(), name.c_str()) == 0) return value;
    return std::nullopt;
}

wbclient::RegistryClient harness_client(const RegistryInstance& registry) {
    wbclient::RegistryClient client(registry.host_port());
    client.http().set_user_agent(harness_user_agent);
    return client;
}

// A request the test makes itself, with the Accept header it chooses.
wbclient::Response fetch(wbclient::RegistryClient& client, const std::string& method, const std::string& rest,
                          const std::string& accept = wbclient::accept_all_manifests()) {
    wbclient::Request request{.method = method, .url = client.url(repository, rest)};
    request.headers.add("Accept", accept);
    return client.http().perform(request);
}

std::string error_code(const wbclient::Response& response) {
    const auto body = nlohmann::json::parse(response.body, nullptr, false);
    return body.contains("errors") ? body["errors"][0].value("code", "") : "";
}

// One platform's image as the registry holds it, read back independently of the program.
struct StoredImage {
    wbclient::Descriptor oci;     // the OCI index's entry
    wbclient::Descriptor docker;  // the manifest list's entry
    wbclient::Descriptor config;
    wbclient::Descriptor layer;
    nlohmann::json config_json;
    fs::path rootfs;
};

std::map<std::string, StoredImage> read_back(wbclient::RegistryClient& client, const fs::path& scratch,
                                             const wbclient::Manifest& index, const wbclient::Manifest& list) {
    std::map<std::string, StoredImage> images;
    REQUIRE(index.manifests.size() == 2);
    REQUIRE(list.manifests.size() == 2);
    for (std::size_t i = 0; i < 2; ++i) {
        const wbclient::Descriptor& entry = index.manifests[i];
        REQUIRE(entry.platform);
        const std::string arch = entry.platform->architecture;
        const auto manifest = client.get_manifest(repository, entry.digest.str());
        StoredImage image{.oci = entry, .docker = list.manifests[i], .config = *manifest.parsed.config,
                          .layer = manifest.parsed.layers.at(0), .config_json = {}, .rootfs = scratch / (arch + "-rootfs")};
        std::string config;
        client.fetch_blob(repository, image.config, [&](const char* data, std::size_t size) { config.append(data, size); });
        image.config_json = nlohmann::json::parse(config);
        const fs::path layer_file = scratch / (arch + ".tar.gz");
        {
            std::ofstream out(layer_file, std::ios::binary);
            client.fetch_blob(repository, image.layer, [&](const char* data, std::size_t size) { out.write(data, size); });
        }
        wbclient::extract_layer(layer_file, image.rootfs);
        images.emplace(arch, image);
    }
    return images;
}

RunResult skopeo(std::vector<std::string> args) {
    args.insert(args.begin(), "skopeo");
    return run_program(args, {.timeout = std::chrono::seconds(120)});
}

RunResult docker(std::vector<std::string> args) {
    args.insert(args.begin(), "docker");
    return run_program(args, {.timeout = std::chrono::seconds(180)});
}

}  // namespace

TEST_CASE("chapter 09: two platforms behind one tag, and a pull for linux/arm64", "[chapter09]") {
    Workspace workspace("chapter09");
    auto registry = start_registry({.role = "registry"}, workspace.path());
    const std::string image = registry->host_port() + "/" + repository + ":latest";

    const ChapterRun run = run_chapter(program, {image, "work"}, workspace);
    INFO(run.result.out << run.result.err);
    REQUIRE(run.result.exit_code == 0);
    CHECK(run.result.err.empty());
    INFO("client saw:\n" << summarize(run.transcript));

    const fs::path work = workspace.path() / "work";
    const std::string index_bytes = read_existing_file(work / "index.json");
    const std::string list_bytes = read_existing_file(work / "manifest-list.json");
    const wbclient::Digest index_digest = wbclient::digest_of(index_bytes);
    const wbclient::Digest list_digest = wbclient::digest_of(list_bytes);
    const auto index = wbclient::Manifest::parse(index_bytes, "");
    const auto list = wbclient::Manifest::parse(list_bytes, "");
    auto client = harness_client(*registry);
    fs::create_directories(workspace.path() / "scratch");
    const auto images = read_back(client, workspace.path() / "scratch", index, list);
    REQUIRE(images.size() == 2);
    const StoredImage& amd64 = images.at("amd64");
    const StoredImage& arm64 = images.at("arm64");

    SECTION("the indexes: one entry per platform, arm64 as arm64/v8, each the right kind of manifest") {
        CHECK(index.media_type == wbclient::media_type::oci_index);
        CHECK(list.media_type == wbclient::media_type::docker_manifest_list);
        CHECK(wbclient::platform_string(*amd64.oci.platform) == "linux/amd64");
        CHECK(wbclient::platform_string(*arm64.oci.platform) == "linux/arm64/v8");
        for (const StoredImage* stored : {&amd64, &arm64}) {
            CHECK(stored->oci.media_type == wbclient::media_type::oci_manifest);
            CHECK(stored->docker.media_type == wbclient::media_type::docker_manifest);
            CHECK(wbclient::platform_string(*stored->docker.platform) == wbclient::platform_string(*stored->oci.platform));
            CHECK(stored->docker.digest != stored->oci.digest);
            // The two formats name the very same config and layer.
            const auto docker = client.get_manifest(repository, stored->docker.digest.str());
            CHECK(docker.parsed.config->digest == stored->config.digest);
            CHECK(docker.parsed.layers.at(0).digest == stored->layer.digest);
            CHECK(docker.parsed.layers.at(0).media_type == wbclient::media_type::docker_layer_gzip);
        }
        CHECK_THAT(run.result.out, Catch::Contains("Pushed the OCI index as " + image + ", " + index_digest.str() +
                                                   ":\n" + index_bytes + "\n"));
        CHECK_THAT(run.result.out, Catch::Contains("Pushed the Docker manifest list as :latest-docker, " + list_digest.str()));
    }

    SECTION("the images: each config names its platform, and each layer holds its own platform's files") {
        CHECK(amd64.config_json["os"] == "linux");
        CHECK(amd64.config_json["architecture"] == "amd64");
        CHECK(arm64.config_json["os"] == "linux");
        CHECK(arm64.config_json["architecture"] == "arm64");
        CHECK(amd64.layer.digest != arm64.layer.digest);
        CHECK(amd64.config.digest != arm64.config.digest);
        CHECK(read_existing_file(amd64.rootfs / "etc/platform") == "linux/amd64\n");
        CHECK(read_existing_file(arm64.rootfs / "etc/platform") == "linux/arm64/v8\n");
        // amd64 carries a real amd64 program, Debian's static busybox; arm64 has no program.
        CHECK(wbclient::same_contents(amd64.rootfs / "bin/busybox", "/bin/busybox"));
        CHECK(wbclient::elf_architecture(amd64.rootfs / "bin/busybox") == "amd64");
        CHECK(fs::read_symlink(amd64.rootfs / "bin/sh") == "busybox");
        CHECK_FALSE(fs::exists(arm64.rootfs / "bin"));
        CHECK(read_existing_file(arm64.rootfs / "hello.sh") == read_existing_file(amd64.rootfs / "hello.sh"));
        for (const StoredImage* stored : {&amd64, &arm64})
            CHECK(stored->config_json["config"]["Cmd"] == nlohmann::json{"/bin/sh", "/hello.sh"});
        // The amd64 image runs here, the way `docker run` would start it.
        const RunResult ran = run_program({(amd64.rootfs / "bin/busybox").string(), "sh", "-c",
                                           "echo \"hello from $(cat etc/platform)\""},
                                          {.working_directory = amd64.rootfs});
        CHECK(ran.out == "hello from linux/amd64\n");
    }

    SECTION("the push: the four children by digest, untagged, before the two indexes by tag") {
        std::size_t last_child = 0;
        for (const StoredImage* stored : {&amd64, &arm64})
            for (const wbclient::Descriptor* child : {&stored->oci, &stored->docker}) {
                const auto put = index_of(run.transcript, "PUT", "/v2/" + repository + "/manifests/" + child->digest.str());
                CHECK(run.transcript[put].status == 201);
                CHECK(request_header(run.transcript[put], "Content-Type") == child->media_type);
                last_child = std::max(last_child, put);
            }
        const auto index_put = exactly(run.transcript, "PUT", "/v2/" + repository + "/manifests/latest");
        const auto list_put = index_of(run.transcript, "PUT", "/v2/" + repository + "/manifests/latest-docker");
        CHECK(index_put > last_child);
        CHECK(list_put > last_child);
        CHECK(run.transcript[index_put].status == 201);
        CHECK(request_header(run.transcript[index_put], "Content-Type") == std::string(wbclient::media_type::oci_index));
        CHECK(run.transcript[index_put].response_header("Docker-Content-Digest") == index_digest.str());
        CHECK(run.transcript[list_put].status == 201);
        CHECK(request_header(run.transcript[list_put], "Content-Type") ==
              std::string(wbclient::media_type::docker_manifest_list));
        CHECK(run.transcript[list_put].response_header("Docker-Content-Digest") == list_digest.str());
        CHECK(select(run.transcript, "PUT", "/v2/" + repository + "/manifests/").size() == 6);
        // Each config and layer went up once: the schema2 twins found them in place.
        CHECK(select(run.transcript, "PUT", "/v2/" + repository + "/blobs/uploads/").size() == 4);
        // The registry refuses an index that lists an image the repository lacks.
        const auto orphan = wbclient::assemble_index(
            wbclient::IndexFormat::oci_index,
            {wbclient::Descriptor{.media_type = std::string(wbclient::media_type::oci_manifest),
                                   .digest = wbclient::digest_of("no such image"), .size = 13,
                                   .platform = wbclient::Platform{"linux", "amd64", ""}}});
        wbclient::Request put{.method = "PUT", .url = client.url(repository, "manifests/orphan"), .body = orphan.bytes};
        put.headers.add("Content-Type", orphan.descriptor.media_type);
        const auto refused = client.http().perform(put);
        CHECK(refused.status == 400);
        CHECK(error_code(refused) == "MANIFEST_BLOB_UNKNOWN");
        // Only the indexes have tags.
        const auto tags = nlohmann::json::parse(fetch(client, "GET", "tags/list").body);
        CHECK(tags["tags"].get<std::set<std::string>>() == std::set<std::string>{"latest", "latest-docker"});
    }

    SECTION("Accept without the index type: the list by tag gives the amd64 child, the OCI index a 404") {
        const std::string schema2(wbclient::media_type::docker_manifest);
        const std::string path = "/v2/" + repository + "/manifests/";
        const auto list_by_tag = index_of(run.transcript, "GET", path + "latest-docker");
        CHECK(request_header(run.transcript[list_by_tag], "Accept") == schema2);
        CHECK(run.transcript[list_by_tag].status == 200);
        CHECK(run.transcript[list_by_tag].response_header("Content-Type") == schema2);
        CHECK(run.transcript[list_by_tag].response_header("Docker-Content-Digest") == amd64.docker.digest.str());
        CHECK(run.transcript[list_by_tag].bytes_received == amd64.docker.size);
        // By digest the registry serves the list itself, whatever the Accept header says.
        const auto list_by_digest = index_of(run.transcript, "GET", path + list_digest.str());
        CHECK(request_header(run.transcript[list_by_digest], "Accept") == schema2);
        CHECK(run.transcript[list_by_digest].status == 200);
        CHECK(run.transcript[list_by_digest].response_header("Content-Type") ==
              std::string(wbclient::media_type::docker_manifest_list));
        CHECK(run.transcript[list_by_digest].bytes_received == list_bytes.size());
        const auto index_refused = exactly(run.transcript, "GET", path + "latest");
        CHECK(run.transcript[index_refused].status == 404);
        CHECK_THAT(run.result.out,
                   Catch::Contains("200 OK, " + schema2 + "\n  " + amd64.docker.digest.str() +
                                   ": the linux/amd64 schema2 manifest\n") &&
                       Catch::Contains(list_digest.str() + ": the manifest list itself\n") &&
                       Catch::Contains("404 Not Found, MANIFEST_UNKNOWN: OCI index found, but accept header "
                                       "does not support OCI indexes\n"));
        // The registry's log says the same.
        const auto log = registry->access_log();
        const auto refused = exactly(log, "GET", path + "latest");
        CHECK(log[refused].status == 404);
        CHECK(log[refused].error_code == "manifest unknown");
        // Neither does */* nor an OCI-manifest-only Accept get the index; the schema2 list by tag
        // for an OCI-manifest-only client is rewritten to the amd64 child in schema1.
        CHECK(fetch(client, "GET", "manifests/latest", "*/*").status == 404);
        const auto schema1 = fetch(client, "GET", "manifests/latest-docker", std::string(wbclient::media_type::oci_manifest));
        CHECK(schema1.status == 200);
        CHECK(schema1.headers.get("Content-Type") == "application/vnd.docker.distribution.manifest.v1+prettyjws");
        CHECK(nlohmann::json::parse(schema1.body)["architecture"] == "amd64");
    }

    SECTION("the pull: the index by tag, then the arm64 image by digest, and nothing of amd64") {
        const std::string path = "/v2/" + repository + "/";
        const auto refused = exactly(run.transcript, "GET", path + "manifests/latest");
        const auto index_get = exactly(run.transcript, "GET", path + "manifests/latest", refused + 1);
        CHECK(run.transcript[index_get].status == 200);
        CHECK(run.transcript[index_get].response_header("Content-Type") == std::string(wbclient::media_type::oci_index));
        CHECK(run.transcript[index_get].response_header("Docker-Content-Digest") == index_digest.str());
        const auto child_get = index_of(run.transcript, "GET", path + "manifests/" + arm64.oci.digest.str(), index_get);
        CHECK(run.transcript[child_get].status == 200);
        const std::vector<ObservedExchange> pull(run.transcript.begin() + static_cast<long>(index_get), run.transcript.end());
        CHECK(select(pull, "GET").size() == 4);  // index, arm64 manifest, its config, its layer
        for (const auto& blob : {arm64.config, arm64.layer}) {
            const auto get = index_of(run.transcript, "GET", path + "blobs/" + blob.digest.str(), child_get);
            CHECK(run.transcript[get].status == 200);
            CHECK(run.transcript[get].bytes_received == blob.size);
        }
        for (const auto& unwanted : {amd64.oci.digest, amd64.docker.digest, amd64.config.digest, amd64.layer.digest})
            for (const auto& e : select(registry->access_log(), "GET"))
                if (e.user_agent != harness_user_agent) CHECK(e.uri.find(unwanted.str()) == std::string::npos);
        CHECK_THAT(run.result.out, Catch::Contains("Pulling " + image + " for linux/arm64\n  the index offers 2 images; "
                                                   "linux/arm64/v8 is " + arm64.oci.digest.str()));
        CHECK_THAT(run.result.out, Catch::EndsWith("3 blobs verified; the config says linux/arm64\n"));
    }

    SECTION("the layout holds the arm64 image alone, every byte verified") {
        const fs::path layout = work / "pulled.oci";
        CHECK(wbclient::verify_oci_layout(layout) == 3);
        const auto layout_index = nlohmann::json::parse(read_existing_file(layout / "index.json"));
        CHECK(layout_index["manifests"].size() == 1);
        CHECK(layout_index["manifests"][0]["digest"] == arm64.oci.digest.str());
        CHECK(layout_index["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"] == "latest");
        std::set<std::string> blobs;
        for (const auto& entry : fs::directory_iterator(layout / "blobs/sha256")) blobs.insert(entry.path().filename().string());
        CHECK(blobs == std::set<std::string>{std::string(arm64.oci.digest.hex()), std::string(arm64.config.digest.hex()),
                                             std::string(arm64.layer.digest.hex())});
        CHECK_FALSE(has_partial_leftovers(workspace.path()));
    }

    SECTION("skopeo agrees: the same index bytes, the same child for arm64, the same digests copied") {
        const std::string ref = "docker://" + image;
        const RunResult raw = skopeo({"inspect", "--raw", "--tls-verify=false", ref});
        REQUIRE(raw.exit_code == 0);
        CHECK(raw.out == index_bytes);
        const RunResult raw_list = skopeo({"inspect", "--raw", "--tls-verify=false", ref + "-docker"});
        REQUIRE(raw_list.exit_code == 0);
        CHECK(raw_list.out == list_bytes);
        for (const StoredImage* stored : {&amd64, &arm64}) {
            const std::string arch = stored->config_json["architecture"];
            const RunResult inspected = skopeo({"inspect", "--tls-verify=false", "--override-arch", arch, ref});
            INFO(inspected.out << inspected.err);
            REQUIRE(inspected.exit_code == 0);
            const auto json = nlohmann::json::parse(inspected.out);
            CHECK(json["Digest"] == index_digest.str());  // the top-level manifest: the index
            CHECK(json["Architecture"] == arch);
            CHECK(json["Os"] == "linux");
            CHECK(json["Layers"] == nlohmann::json{stored->layer.digest.str()});
        }

        // One platform, as our pull chose it: the same child manifest.
        const RunResult one = skopeo({"copy", "--override-arch", "arm64", "--src-tls-verify=false", ref,
                                      "oci:" + (workspace.path() / "skopeo-arm64").string() + ":latest"});
        INFO(one.out << one.err);
        REQUIRE(one.exit_code == 0);
        const auto one_index = nlohmann::json::parse(read_existing_file(workspace.path() / "skopeo-arm64/index.json"));
        CHECK(one_index["manifests"][0]["digest"] == arm64.oci.digest.str());
        CHECK(wbclient::verify_oci_layout(workspace.path() / "skopeo-arm64") == 3);

        // --all: the index and everything under it, byte for byte.
        const RunResult all = skopeo({"copy", "--all", "--src-tls-verify=false", ref,
                                      "oci:" + (workspace.path() / "skopeo-all").string() + ":latest"});
        INFO(all.out << all.err);
        REQUIRE(all.exit_code == 0);
        const auto all_index = nlohmann::json::parse(read_existing_file(workspace.path() / "skopeo-all/index.json"));
        CHECK(all_index["manifests"][0]["digest"] == index_digest.str());
        CHECK(wbclient::verify_oci_layout(workspace.path() / "skopeo-all") == 7);

        // --all into another repository of the same registry: children by digest, then the index.
        const RunResult copied = skopeo({"copy", "--all", "--src-tls-verify=false", "--dest-tls-verify=false", ref,
                                         "docker://" + registry->host_port() + "/multi-platform-copy:latest"});
        INFO(copied.out << copied.err);
        REQUIRE(copied.exit_code == 0);
        wbclient::RegistryClient copy_client(registry->host_port());
        const auto copy = copy_client.get_manifest("multi-platform-copy", "latest");
        CHECK(copy.digest == index_digest);
        const auto log = registry->access_log();
        const auto copy_index_put = exactly(log, "PUT", "/v2/multi-platform-copy/manifests/latest");
        CHECK(log[copy_index_put].status == 201);
        for (const StoredImage* stored : {&amd64, &arm64}) {
            const auto put = index_of(log, "PUT", "/v2/multi-platform-copy/manifests/" + stored->oci.digest.str());
            CHECK(log[put].status == 201);
            CHECK(put < copy_index_put);
        }
    }

    // The compose run has a Docker daemon (dockerd 20.10): `--platform` picks the same child.
    if (registry->engine() == "compose") {
        const std::string port = registry->host_port().substr(registry->host_port().rfind(':') + 1);
        const std::string docker_image = "localhost:" + port + "/" + repository + ":latest";
        struct Cleanup {
            std::vector<std::string> images;
            ~Cleanup() {
                for (const auto& image : images) docker({"image", "rm", "-f", image});
            }
        } cleanup{{docker_image, arm64.config.digest.str(), amd64.config.digest.str()}};
        const RunResult arm = docker({"pull", "--platform", "linux/arm64", docker_image});
        INFO(arm.out << arm.err);
        REQUIRE(arm.exit_code == 0);
        CHECK_THAT(arm.out, Catch::Contains("Digest: " + index_digest.str()));
        // Docker's image ID is the config digest: the arm64 image's.
        CHECK(docker({"image", "inspect", "--format", "{{.Id}} {{.Architecture}}", docker_image}).out ==
              arm64.config.digest.str() + " arm64\n");
        const RunResult native = docker({"pull", docker_image});
        REQUIRE(native.exit_code == 0);
        CHECK(docker({"image", "inspect", "--format", "{{.Id}} {{.Architecture}}", docker_image}).out ==
              amd64.config.digest.str() + " amd64\n");
        const RunResult ran = docker({"run", "--rm", "--network", "none", docker_image});
        INFO(ran.out << ran.err);
        CHECK(ran.out == "hello from linux/amd64\n");
        // What docker fetched besides the index: per pull the one child for its platform.
        std::vector<std::string> children;
        for (const auto& e : registry->access_log())
            if (e.user_agent.starts_with("docker/") && e.method == "GET" &&
                e.uri.starts_with("/v2/" + repository + "/manifests/sha256:") && !e.uri.ends_with(index_digest.str()))
                children.push_back(e.uri.substr(e.uri.rfind('/') + 1));
        CHECK(children == std::vector<std::string>{arm64.oci.digest.str(), amd64.oci.digest.str()});
    }
}

TEST_CASE("chapter 09: --delete-untagged collects the untagged children and leaves the index dangling",
          "[chapter09]") {
    Workspace workspace("chapter09-gc");
    auto registry = start_registry({.role = "registry"}, workspace.path());
    const std::string image = registry->host_port() + "/" + repository + ":latest";
    REQUIRE(run_chapter(program, {image, "work"}, workspace).result.exit_code == 0);
    const std::string index_bytes = read_existing_file(workspace.path() / "work/index.json");
    const auto index = wbclient::Manifest::parse(index_bytes, "");
    const auto list = wbclient::Manifest::parse(read_existing_file(workspace.path() / "work/manifest-list.json"), "");
    auto client = harness_client(*registry);
    fs::create_directories(workspace.path() / "scratch");
    const auto images = read_back(client, workspace.path() / "scratch", index, list);
    std::set<std::string> children, children_blobs;
    for (const auto& [arch, stored] : images) {
        children.insert({stored.oci.digest.str(), stored.docker.digest.str()});
        children_blobs.insert({stored.config.digest.str(), stored.layer.digest.str()});
    }
    const fs::path v2 = registry->storage_root() / "docker/registry/v2";
    const auto blob_data = [&](const std::string& digest) {
        return v2 / "blobs/sha256" / digest.substr(7, 2) / digest.substr(7) / "data";
    };
    const auto revision = [&](const std::string& digest) {
        return v2 / "repositories" / repository / "_manifests/revisions/sha256" / digest.substr(7) / "link";
    };

    // Plain garbage collection: every manifest is marked, tagged or not, and everything stays.
    registry->stop();
    const RunResult plain = registry->garbage_collect({});
    INFO(plain.out << plain.err);
    REQUIRE(plain.exit_code == 0);
    CHECK_THAT(plain.out, Catch::Contains("10 blobs marked, 0 blobs and 0 manifests eligible for deletion"));
    registry->start();
    for (const auto& child : children) CHECK(fetch(client, "GET", "manifests/" + child).status == 200);

    // --delete-untagged: the children have no tag, so their manifests go, and with them the
    // configs and layers that only they named. The indexes, tagged, stay.
    registry->stop();
    const RunResult untagged = registry->garbage_collect({"--delete-untagged"});
    INFO(untagged.out << untagged.err);
    REQUIRE(untagged.exit_code == 0);
    CHECK_THAT(untagged.out, Catch::Contains("6 blobs marked, 4 blobs and 4 manifests eligible for deletion"));
    for (const auto& child : children) {
        CHECK_THAT(untagged.out, Catch::Contains("manifest eligible for deletion: " + child));
        // The index still names the child's bytes, so they stay on disk; its revision link goes.
        CHECK(fs::exists(blob_data(child)));
        CHECK_FALSE(fs::exists(revision(child)));
    }
    for (const auto& blob : children_blobs) {
        CHECK_THAT(untagged.out, Catch::Contains("blob eligible for deletion: " + blob));
        CHECK_FALSE(fs::exists(blob_data(blob)));
    }
    registry->start();

    // The dangling index: its tag answers, the images it names do not.
    const auto by_tag = fetch(client, "GET", "manifests/latest");
    CHECK(by_tag.status == 200);
    CHECK(by_tag.body == index_bytes);
    CHECK(fetch(client, "GET", "manifests/latest-docker").status == 200);
    for (const auto& child : children) {
        const auto response = fetch(client, "GET", "manifests/" + child);
        CHECK(response.status == 404);
        CHECK(error_code(response) == "MANIFEST_UNKNOWN");
    }
    for (const auto& blob : children_blobs) CHECK(fetch(client, "HEAD", "blobs/" + blob).status == 404);
    // And a pull of it fails, leaving no layout behind.
    wbclient::Reference reference = wbclient::Reference::parse(image);
    CHECK_THROWS_WITH(wbclient::pull_to_layout(client, reference, workspace.path() / "dangling.oci"),
                      Catch::Contains("404") && Catch::Contains("MANIFEST_UNKNOWN"));
    CHECK_FALSE(fs::exists(workspace.path() / "dangling.oci"));
    CHECK_FALSE(has_partial_leftovers(workspace.path()));

    // Pushing the children again heals it: the program re-uploads what was collected.
    const ChapterRun again = run_chapter(program, {image, "again"}, workspace);
    INFO(again.result.out << again.result.err);
    REQUIRE(again.result.exit_code == 0);
    CHECK(select(again.transcript, "PUT", "/v2/" + repository + "/blobs/uploads/").size() == 4);
    CHECK(read_existing_file(workspace.path() / "again/index.json") == index_bytes);
    for (const auto& child : children) CHECK(fetch(client, "GET", "manifests/" + child).status == 200);
}

TEST_CASE("chapter 09: bad input gets a one-line error and leaves nothing half-written", "[chapter09]") {
    Workspace workspace("chapter09-bad");
    auto registry = start_registry({.role = "registry"}, workspace.path());
    const std::string image = registry->host_port() + "/" + repository + ":latest";
    const std::string closed = "127.0.0.1:" + std::to_string(free_loopback_port());
    fs::create_directories(workspace.path() / "precious");
    std::ofstream(workspace.path() / "precious/notes.txt") << "mine\n";

    struct Case {
        std::string name;
        std::vector<std::string> args;
        std::string expected;
        bool talks_to_registry;
    };
    const std::vector<Case> cases{
        {"platform without architecture", {"--platform", "linux", image, "work"},
         "platform 'linux' is not os/architecture[/variant], e.g. linux/arm64", false},
        {"platform with four parts", {"--platform", "linux/arm64/v8/x", image, "work"},
         "platform 'linux/arm64/v8/x' is not os/architecture[/variant]", false},
        {"platform with an empty part", {"--platform", "linux//arm64", image, "work"}, "is not os/architecture", false},
        {"platform with a space", {"--platform", "linux/arm 64", image, "work"}, "is not os/architecture", false},
        {"platform with a newline", {"--platform", "linux/arm64\nx", image, "work"}, "platform 'linux/arm64?x'", false},
        {"platform the index lacks", {"--platform", "linux/s390x", image, "work"},
         "the index has no image for linux/s390x, only for linux/amd64, linux/arm64/v8", true},
        {"a 32-bit arm the index lacks", {"--platform", "linux/arm/v7", image, "work"},
         "the index has no image for linux/arm/v7", true},
        {"another os", {"--platform", "windows/amd64", image, "work"}, "no image for windows/amd64", true},
        {"malformed reference", {registry->host_port() + "/Multi_Platform:latest", "work"},
         "invalid reference '" + registry->host_port() + "/Multi_Platform:latest': name component 'Multi_Platform' must be lower-case",
         false},
        {"malformed tag", {registry->host_port() + "/" + repository + ":bad:tag", "work"}, "invalid reference", false},
        {"reference with a digest", {image + "@sha256:" + std::string(64, 'a'), "work"},
         "name the image by tag, not by digest", false},
        {"unreachable registry", {closed + "/" + repository + ":latest", "work"}, "Couldn't connect to server", false},
        {"unknown option", {"--arch", "arm64"}, "unexpected argument '--arch'", false},
        {"platform without its value", {"--platform"}, "unexpected argument '--platform'", false},
        {"a folder that is not ours", {image, "precious"}, "precious exists and is not this chapter's folder", false},
    };
    for (const Case& c : cases) {
        INFO(c.name);
        const ChapterRun run = run_chapter(program, c.args, workspace);
        INFO(run.result.out << run.result.err);
        check_refused(program, run.result, c.expected);
        CHECK_FALSE(fs::exists(workspace.path() / "work"));
        CHECK_FALSE(has_partial_leftovers(workspace.path()));
        CHECK(read_existing_file(workspace.path() / "precious/notes.txt") == "mine\n");
        if (!c.talks_to_registry) {
            CHECK(select(run.transcript, "PUT").empty());
            CHECK(select(run.transcript, "POST").empty());
        } else {
            // The images went up whole; the pull stopped after the index, before any child.
            const auto index_gets = select(run.transcript, "GET", "/v2/" + repository + "/manifests/latest");
            REQUIRE_FALSE(index_gets.empty());
            CHECK(index_gets.back().status == 200);
            CHECK(select(run.transcript, "GET", "/v2/" + repository + "/manifests/sha256:").size() == 1);  // the list
            CHECK(select(run.transcript, "GET", "/v2/" + repository + "/blobs/").empty());
        }
    }
}

TEST_CASE("chapter 09: each platform's image, unpacked by our library, is the rootfs umoci unpacks", "[chapter09]") {
    Workspace workspace("chapter09-umoci");
    auto registry = start_registry({.role = "registry"}, workspace.path());
    const std::string image = registry->host_port() + "/" + repository + ":latest";
    const ChapterRun run = run_chapter(program, {image, "work"}, workspace);
    INFO(run.result.out << run.result.err);
    REQUIRE(run.result.exit_code == 0);

    for (const std::string architecture : {"amd64", "arm64"}) {
        const auto layout = test_support::copy_to_layout(image, workspace.path() / (architecture + ".layout"), architecture,
                                                         {"--override-os", "linux", "--override-arch", architecture});
        const auto tree = test_support::check_same_rootfs_as_umoci(layout, architecture, workspace.path() / architecture);
        CHECK(tree.size() > 0);
    }
}
