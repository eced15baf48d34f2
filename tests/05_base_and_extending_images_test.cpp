// Chapter 05: given a registry holding my-busybox:latest, when the program extends it by one
// layer and pushes the result into the same repository, into another one and the naive way,
// then the registry's own log shows the base layer was never uploaded by the first two pushes
// (a HEAD answered 200, a mount answered 201), its storage holds every base layer exactly once,
// linked from each repository, and grew by the new layer, config and manifest only; and in the
// compose run `docker build` + `docker push` of an image on the same base re-use it the same way.
#include "test_support.hpp"
#include "layer_inspection.hpp"
#include "busybox_image.hpp"
#include "chapter_run.hpp"
#include "registry_instance.hpp"

#include "rootfs_comparison.hpp"
#include "podman_rootfs.hpp"
#include "wbclient/image/layer_reader.hpp"
#include "wbclient/image/oci_layout.hpp"
#include "wbclient/model/files.hpp"
#include "wbclient/transfer/ensure_blob.hpp"
#include "wbclient/transfer/image_extension.hpp"
#include "wbclient/model/digest.hpp"
#include "wbclient/model/manifest.hpp"

#include <catch2/catch.hpp>

#include <fstream>
#include <map>
#include <memory>
#include <numeric>
#include <set>

using namespace harness;
namespace fs = std::filesystem;

using namespace test_support;

namespace {

const std::string program = "05_base_and_extending_images";

fs::path v2(const RegistryInstance& registry) { return registry.storage_root() / "docker/registry/v2"; }

// Every data file under blobs/, by the digest of its content (hashed here, not taken from its path).
std::multimap<std::string, std::uint64_t> stored_blobs(const RegistryInstance& registry) {
    std::multimap<std::string, std::uint64_t> blobs;
    for (const auto& entry : fs::recursive_directory_iterator(v2(registry) / "blobs"))
        if (entry.is_regular_file() && entry.path().filename() == "data")
            blobs.emplace(wbclient::digest_of_file(entry.path()).str(), entry.file_size());
    return blobs;
}
std::uint64_t total_bytes(const std::multimap<std::string, std::uint64_t>& blobs) {
    return std::accumulate(blobs.begin(), blobs.end(), std::uint64_t{0},
                           [](std::uint64_t sum, const auto& blob) { return sum + blob.second; });
}

// docker escapes the ':' of a digest in query strings; our client does not.
std::string decoded(std::string uri) {
    for (std::size_t at; (at = uri.find("%3A")) != std::string::npos;) uri.replace(at, 3, ":");
    return uri;
}

// Blob uploads finished in `repository`: the final PUT names the digest of what it carried.
std::vector<ObservedExchange> upload_puts(const std::vector<ObservedExchange>& exchanges, const std::string& repository) {
    return select(exchanges, "PUT", "/v2/" + repository + "/blobs/uploads/");
}
bool uploads_digest(const ObservedExchange& put, const wbclient::Digest& digest) {
    return decoded(put.uri).find("digest=" + digest.str()) != std::string::npos;
}
std::uint64_t sent(const std::vector<ObservedExchange>& exchanges) {
    std::uint64_t bytes = 0;
    for (const auto& e : exchanges) bytes += e.bytes_sent;
    return bytes;
}

std::vector<ObservedExchange> not_by_harness(const std::vector<ObservedExchange>& log) {
    std::vector<ObservedExchange> kept;
    for (const auto& e : log)
        if (e.user_agent != harness_user_agent) kept.push_back(e);
    return kept;
}

std::string fetch_blob(wbclient::RegistryClient& client, const std::string& repository, const wbclient::Descriptor& blob) {
    std::string bytes;
    client.fetch_blob(repository, blob, [&](const char* data, std::size_t size) { bytes.append(data, size); });
    return bytes;
}

RunResult docker(std::vector<std::string> args, std::map<std::string, std::string> environment = {}) {
    args.insert(args.begin(), "docker");
    return run_program(args, {.environment = std::move(environment), .timeout = std::chrono::seconds(180)});
}

}  // namespace

TEST_CASE("chapter 05: an extending image pushed three ways; the registry's log and storage show what was re-used",
          "[chapter05]") {
    Workspace workspace("chapter05");
    auto registry = start_registry({.role = "registry"}, workspace.path());
    wbclient::RegistryClient reader(registry->host_port());
    harness::seed_busybox(reader, "my-busybox", "latest");  // as chapter 01 leaves it
    const auto before = stored_blobs(*registry);

    // No arguments: the defaults the book uses, with the storage to measure.
    const std::map<std::string, std::string> environment{{"WORKBOOK_REGISTRY", registry->host_port()},
                                                         {"WORKBOOK_STORAGE", registry->storage_root().string()}};
    const ChapterRun run = run_chapter(program, {}, workspace, environment);
    INFO(run.result.out << run.result.err);
    REQUIRE(run.result.exit_code == 0);
    CHECK(run.result.err.empty());

    // ---- The images, as the registry serves them ------------------------------------------
    const auto base = reader.get_manifest("my-busybox", "latest");
    const auto extended = reader.get_manifest("my-busybox", "extended");
    CHECK(reader.get_manifest("my-app", "latest").digest == extended.digest);
    CHECK(reader.get_manifest("my-app-naive", "latest").digest == extended.digest);
    CHECK(extended.media_type == wbclient::media_type::docker_manifest);
    const auto& base_layers = base.parsed.layers;
    REQUIRE(base_layers.size() == 1);
    REQUIRE(extended.parsed.layers.size() == base_layers.size() + 1);
    for (std::size_t i = 0; i < base_layers.size(); ++i) {
        CHECK(extended.parsed.layers[i].digest == base_layers[i].digest);
        CHECK(extended.parsed.layers[i].size == base_layers[i].size);
    }
    const wbclient::Descriptor new_layer = extended.parsed.layers.back();
    const wbclient::Descriptor config = *extended.parsed.config;
    CHECK(new_layer.media_type == wbclient::media_type::docker_layer_gzip);
    CHECK(config.media_type == wbclient::media_type::docker_config);

    const auto base_config = nlohmann::json::parse(fetch_blob(reader, "my-busybox", *base.parsed.config));
    const auto new_config = nlohmann::json::parse(fetch_blob(reader, "my-busybox", config));
    const ReadLayer new_tar = read_layer(registry->blob_data(new_layer.digest));
    std::vector<std::string> new_entries;
    for (const auto& entry : new_tar.entries) new_entries.push_back(entry.path);
    CHECK(new_entries == std::vector<std::string>{"app/", "app/hello.sh"});
    const wbclient::Digest& new_diff_id = new_tar.diff_id;
    nlohmann::json diff_ids = base_config["rootfs"]["diff_ids"];
    diff_ids.push_back(new_diff_id.str());
    CHECK(new_config["rootfs"]["diff_ids"] == diff_ids);
    nlohmann::json history = base_config["history"];
    REQUIRE(new_config["history"].size() == history.size() + 1);
    CHECK_THAT(new_config["history"].back()["created_by"].get<std::string>(), Catch::StartsWith("COPY hello.sh /app/hello.sh"));
    history.push_back(new_config["history"].back());
    CHECK(new_config["history"] == history);
    CHECK(new_config["config"]["Cmd"] == nlohmann::json{"/app/hello.sh"});
    CHECK(new_config["config"]["Env"] == base_config["config"]["Env"]);
    CHECK(new_config["architecture"] == base_config["architecture"]);
    CHECK(new_config["os"] == base_config["os"]);

    const wbclient::Digest base_layer = base_layers.front().digest;
    const std::uint64_t base_bytes = base_layers.front().size;
    const std::uint64_t new_bytes = new_layer.size + config.size;
    const std::uint64_t manifest_bytes = extended.bytes.size();

    // ---- The client's side: what each push sent -------------------------------------------
    {
        INFO("client sent:\n" << summarize(run.transcript));
        // 1. Same repository: the HEAD answers 200 and the base layer is skipped.
        const auto heads = select(run.transcript, "HEAD", "/v2/my-busybox/blobs/" + base_layer.str());
        REQUIRE(heads.size() == 1);
        CHECK(heads.front().status == 200);
        const auto puts1 = upload_puts(run.transcript, "my-busybox");
        CHECK(puts1.size() == 2);
        CHECK(sent(puts1) == new_bytes);
        for (const auto& put : puts1) CHECK_FALSE(uploads_digest(put, base_layer));
        const auto manifest_puts = select(run.transcript, "PUT", "/v2/my-busybox/manifests/extended");
        REQUIRE(manifest_puts.size() == 1);
        CHECK(manifest_puts.front().bytes_sent == manifest_bytes);
        // 2. Another repository: HEAD 404, then the mount answers 201 and nothing is sent.
        const auto app_heads = select(run.transcript, "HEAD", "/v2/my-app/blobs/" + base_layer.str());
        REQUIRE(app_heads.size() == 1);
        CHECK(app_heads.front().status == 404);
        const auto mounts = select(run.transcript, "POST", "/v2/my-app/blobs/uploads/?mount=");
        REQUIRE(mounts.size() == 1);
        CHECK(mounts.front().uri == "/v2/my-app/blobs/uploads/?mount=" + base_layer.str() + "&from=my-busybox");
        CHECK(mounts.front().status == 201);
        CHECK(mounts.front().response_header("Location") ==
              registry->url() + "/v2/my-app/blobs/" + base_layer.str());
        const auto puts2 = upload_puts(run.transcript, "my-app");
        CHECK(puts2.size() == 2);
        CHECK(sent(puts2) == new_bytes);
        // 3. Naive: no questions asked, every blob uploaded again.
        CHECK(select(run.transcript, "HEAD", "/v2/my-app-naive/").empty());
        const auto puts3 = upload_puts(run.transcript, "my-app-naive");
        CHECK(puts3.size() == 3);
        CHECK(sent(puts3) == base_bytes + new_bytes);
        for (const auto& put : puts3) CHECK(put.status == 201);
        // The program printed the same numbers.
        const std::string reused = "sent " + std::to_string(new_bytes) + " bytes of blobs + " +
                                   std::to_string(manifest_bytes) + " bytes of manifest";
        CHECK_THAT(run.result.out, Catch::Contains("Layer already exists: base layer " + base_layer.str()) &&
                                       Catch::Contains("Mounted from my-busybox: base layer " + base_layer.str()) &&
                                       Catch::Contains("Pushed: base layer " + base_layer.str()) &&
                                       Catch::Contains(reused + ", in 3 HEAD 2 POST 3 PUT\n") &&
                                       Catch::Contains(reused + ", in 3 HEAD 3 POST 3 PUT\n") &&
                                       Catch::Contains("sent " + std::to_string(base_bytes + new_bytes) +
                                                       " bytes of blobs + " + std::to_string(manifest_bytes) +
                                                       " bytes of manifest, in 3 POST 4 PUT\n"));
    }

    // ---- The registry's side: what it was asked, and what it answered ----------------------
    const auto log = not_by_harness(registry->access_log());
    {
        INFO("registry logged:\n" << summarize(log));
        // It logged exactly the client's requests, in the same order, with the same answers.
        REQUIRE(log.size() == run.transcript.size());
        for (std::size_t i = 0; i < log.size(); ++i) {
            CHECK(log[i].method + " " + log[i].path() + " " + std::to_string(log[i].status) ==
                  run.transcript[i].method + " " + run.transcript[i].path() + " " + std::to_string(run.transcript[i].status));
        }
        CHECK(select(log, "PATCH").empty());
        for (const std::string repository : {"my-busybox", "my-app"})
            for (const auto& put : upload_puts(log, repository)) CHECK_FALSE(uploads_digest(put, base_layer));
        const auto mounts = select(log, "POST", "/v2/my-app/blobs/uploads/?mount=" + base_layer.str());
        REQUIRE(mounts.size() == 1);
        CHECK(mounts.front().status == 201);
        const auto naive = upload_puts(log, "my-app-naive");
        CHECK(std::count_if(naive.begin(), naive.end(), [&](const auto& put) {
                  return uploads_digest(put, base_layer) && put.status == 201;
              }) == 1);
    }

    // ---- The registry's storage: one copy of each blob, linked from each repository -------
    const auto after = stored_blobs(*registry);
    CHECK(after.count(base_layer.str()) == 1);
    CHECK(fs::file_size(registry->blob_data(base_layer)) == base_bytes);
    for (const std::string repository : {"my-busybox", "my-app", "my-app-naive"}) {
        INFO(repository);
        const fs::path layers = v2(*registry) / "repositories" / repository / "_layers/sha256";
        CHECK(read_existing_file(layers / std::string(base_layer.hex()) / "link") == base_layer.str());
        CHECK(read_existing_file(layers / std::string(new_layer.digest.hex()) / "link") == new_layer.digest.str());
        // No upload left half-way: every session ended in a blob.
        const fs::path uploads = v2(*registry) / "repositories" / repository / "_uploads";
        CHECK((!fs::exists(uploads) || fs::is_empty(uploads)));
    }
    // Every blob is stored once, under its own digest; growth = new layer + config + manifest.
    for (const auto& [digest, size] : after) CHECK(after.count(digest) == 1);
    CHECK(after.size() == before.size() + 3);
    CHECK(total_bytes(after) - total_bytes(before) == new_bytes + manifest_bytes);
    CHECK_THAT(run.result.out,
               Catch::Contains("the registry's blobs/ grew by 3 file(s), " + std::to_string(new_bytes + manifest_bytes) +
                               " bytes\n") &&
                   Catch::Contains("base layer " + base_layer.str() + ": " + std::to_string(base_bytes) +
                                   " bytes in docker/registry/v2/blobs/sha256/" + std::string(base_layer.hex()).substr(0, 2) +
                                   "/" + std::string(base_layer.hex()) + "/data, linked from my-busybox my-app my-app-naive\n"));
    const std::string no_growth = "the registry's blobs/ grew by 0 file(s), 0 bytes\n";
    const auto first_no_growth = run.result.out.find(no_growth);
    CHECK(first_no_growth != std::string::npos);
    CHECK(run.result.out.find(no_growth, first_no_growth + 1) != std::string::npos);

    {
        // Run again: the reproducible layer is already everywhere; only the naive push sends bytes.
        const ChapterRun again = run_chapter(program, {}, workspace, environment);
        INFO(again.result.out << again.result.err);
        REQUIRE(again.result.exit_code == 0);
        CHECK(upload_puts(again.transcript, "my-busybox").empty());
        CHECK(upload_puts(again.transcript, "my-app").empty());
        CHECK(select(again.transcript, "POST", "/v2/my-app/").empty());
        CHECK(sent(upload_puts(again.transcript, "my-app-naive")) == base_bytes + new_bytes);
        CHECK(reader.get_manifest("my-app", "latest").digest == extended.digest);
        CHECK(stored_blobs(*registry) == after);
    }

    // ---- The compose run has a Docker daemon: docker build + push on the same base --------
    if (registry->engine() == "compose") {
        const std::string host = "localhost:" + registry->host_port().substr(registry->host_port().rfind(':') + 1);
        struct Cleanup {
            std::vector<std::string> images;
            ~Cleanup() {
                for (const auto& image : images) docker({"image", "rm", "-f", image});
            }
        } cleanup{{host + "/my-docker-app:latest", host + "/my-busybox:docker-app", host + "/my-app:latest",
                   host + "/my-busybox:latest"}};
        const fs::path context = workspace.path() / "docker-app";
        fs::create_directories(context);
        std::ofstream(context / "hello.sh") << "#!/bin/sh\necho \"Hello from my-docker-app.\"\n";
        fs::permissions(context / "hello.sh", fs::perms(0755));
        std::ofstream(context / "Dockerfile")
            << "FROM " << host << "/my-busybox:latest\nCOPY hello.sh /app/hello.sh\nCMD [\"/app/hello.sh\"]\n";
        const std::size_t log_start = registry->access_log().size();

        // dockerd here runs with --bridge=none: no RUN steps, so the classic builder it is.
        const RunResult built = docker({"build", "-t", host + "/my-docker-app:latest", context.string()},
                                       {{"DOCKER_BUILDKIT", "0"}});
        INFO(built.out << built.err);
        REQUIRE(built.exit_code == 0);
        const RunResult pushed = docker({"push", host + "/my-docker-app:latest"});
        REQUIRE(docker({"tag", host + "/my-docker-app:latest", host + "/my-busybox:docker-app"}).exit_code == 0);
        const RunResult pushed_again = docker({"push", host + "/my-busybox:docker-app"});
        INFO(pushed.out << pushed.err << pushed_again.out << pushed_again.err);
        REQUIRE(pushed.exit_code == 0);
        REQUIRE(pushed_again.exit_code == 0);
        // docker names layers by their diff_id's first 12 hex digits.
        const std::string short_id = base_config["rootfs"]["diff_ids"][0].get<std::string>().substr(7, 12);
        CHECK_THAT(pushed.out, Catch::Contains(short_id + ": Mounted from my-busybox"));
        CHECK_THAT(pushed_again.out, Catch::Contains(short_id + ": Layer already exists"));
        // docker remembers where it pushed a layer: its own new layer is mounted from there.
        CHECK_THAT(pushed_again.out, Catch::Contains(": Mounted from my-docker-app"));

        // Its own manifest names the very same base layer blob: docker remembered, from its pull
        // of this registry, which compressed digest the layer has here, and did not re-gzip it.
        const auto docker_app = reader.get_manifest("my-docker-app", "latest");
        REQUIRE(docker_app.parsed.layers.size() == 2);
        CHECK(docker_app.parsed.layers.front().digest == base_layer);

        const auto full_log = registry->access_log();
        std::vector<ObservedExchange> by_docker;
        for (auto e = full_log.begin() + static_cast<std::ptrdiff_t>(log_start); e != full_log.end(); ++e)
            if (e->user_agent.starts_with("docker/")) by_docker.push_back(*e);
        INFO("docker's requests:\n" << summarize(by_docker));
        bool mounted = false;
        for (const auto& e : by_docker) {
            if (e.method == "POST" && decoded(e.uri).find("mount=" + base_layer.str()) != std::string::npos &&
                decoded(e.uri).find("from=my-busybox") != std::string::npos && e.uri.starts_with("/v2/my-docker-app/"))
                mounted = e.status == 201;
            // Never an upload of the base layer, in either push.
            if (e.method == "PUT" && e.uri.find("/blobs/uploads/") != std::string::npos)
                CHECK_FALSE(uploads_digest(e, base_layer));
        }
        CHECK(mounted);
        // The build pulled the base first: its manifest by digest, then its layer.
        const auto base_gets = select(by_docker, "GET", "/v2/my-busybox/manifests/" + base.digest.str());
        REQUIRE_FALSE(base_gets.empty());
        CHECK(base_gets.front().status == 200);
        const auto layer_gets = select(by_docker, "GET", "/v2/my-busybox/blobs/" + base_layer.str());
        REQUIRE_FALSE(layer_gets.empty());
        CHECK(layer_gets.front().status == 200);
        // In my-busybox docker found the base layer by HEAD.
        const auto heads = select(by_docker, "HEAD", "/v2/my-busybox/blobs/" + base_layer.str());
        REQUIRE_FALSE(heads.empty());
        CHECK(heads.back().status == 200);
        // Each upload docker did make is POST, one PATCH with the bytes, PUT ?digest=.
        CHECK(select(by_docker, "PATCH").size() == upload_puts(by_docker, "my-docker-app").size() +
                                                       upload_puts(by_docker, "my-busybox").size());
        CHECK(stored_blobs(*registry).count(base_layer.str()) == 1);

        // Docker pulls and runs the C++-built image, fetching only what it lacks: not the base layer.
        const std::size_t pull_start = registry->access_log().size();
        REQUIRE(docker({"pull", host + "/my-app:latest"}).exit_code == 0);
        const RunResult ran = docker({"run", "--rm", "--network", "none", host + "/my-app:latest"});
        INFO(ran.out << ran.err);
        CHECK(ran.exit_code == 0);
        CHECK(ran.out == "Hello from my-app, one layer on top of my-busybox.\n");
        const auto pull_log = registry->access_log();
        const std::vector<ObservedExchange> pull(pull_log.begin() + static_cast<std::ptrdiff_t>(pull_start), pull_log.end());
        INFO("docker pull:\n" << summarize(pull));
        CHECK(select(pull, "GET", "/v2/my-app/blobs/" + base_layer.str()).empty());
        CHECK(select(pull, "GET", "/v2/my-app/blobs/" + new_layer.digest.str()).size() == 1);
        CHECK(select(pull, "GET", "/v2/my-app/blobs/" + config.digest.str()).size() == 1);
    }
}

TEST_CASE("chapter 05: a mount the registry cannot do opens an upload session, to use or to cancel",
          "[chapter05]") {
    Workspace workspace("chapter05-mount");
    auto registry = start_registry({.role = "registry"}, workspace.path());
    wbclient::RegistryClient seeder(registry->host_port());
    harness::seed_busybox(seeder, "my-busybox", "latest");
    wbclient::RegistryClient client(registry->host_port());
    const auto layers = client.get_manifest("my-busybox", "latest").parsed.layers;
    REQUIRE(layers.size() == 1);
    const auto layer = layers.front();
    const fs::path file = workspace.path() / "layer.tar.gz";
    {
        std::ofstream out(file, std::ios::binary);
        client.fetch_blob("my-busybox", layer, [&](const char* data, std::size_t size) { out.write(data, size); });
    }

    // From a repository that does not hold the blob: 202 and a session, which we cancel.
    const auto refused = wbclient::request_mount(client, "other", layer.digest, "nowhere");
    CHECK_FALSE(refused.mounted);
    CHECK_THAT(refused.upload_location, Catch::StartsWith(registry->url() + "/v2/other/blobs/uploads/"));
    // The session is real: the registry keeps it in the repository's _uploads until it ends.
    const std::string uuid = refused.upload_location.substr(
        0, refused.upload_location.find('?')).substr(refused.upload_location.rfind('/') + 1);
    const fs::path session_folder = v2(*registry) / "repositories/other/_uploads" / uuid;
    const auto files_in = [](const fs::path& folder) {
        std::set<std::string> files;
        if (fs::exists(folder))
            for (const auto& entry : fs::recursive_directory_iterator(folder))
                if (entry.is_regular_file()) files.insert(entry.path().lexically_relative(folder).string());
        return files;
    };
    CHECK(files_in(session_folder) == std::set<std::string>{"data", "hashstates/sha256/0", "startedat"});
    wbclient::cancel_upload(client, refused.upload_location);
    // Registry 2.8.2 removes the session's data and start time, but leaves its hash state
    // behind, for the registry's periodic upload purging to remove.
    CHECK(files_in(session_folder) == std::set<std::string>{"hashstates/sha256/0"});
    const auto gone = client.http().perform({.method = "GET", .url = refused.upload_location});
    CHECK(gone.status == 404);
    CHECK_THAT(gone.body, Catch::Contains("BLOB_UPLOAD_UNKNOWN"));
    CHECK_FALSE(client.blob_size("other", layer.digest));

    // ensure_blob: the same refusal, and the bytes go into the session the mount opened.
    CHECK(wbclient::ensure_blob(client, "other", layer, file, "nowhere") == wbclient::BlobArrival::uploaded);
    // A mount from where the blob is: 201, no bytes; and then a HEAD finds it.
    CHECK(wbclient::ensure_blob(client, "third", layer, file, "my-busybox") == wbclient::BlobArrival::mounted);
    CHECK(wbclient::ensure_blob(client, "third", layer, file, "my-busybox") == wbclient::BlobArrival::already_there);

    const auto log = not_by_harness(registry->access_log());
    // The session's path: the Location without the registry's address and the _state query.
    const std::string session = refused.upload_location.substr(registry->url().size(),
                                                               refused.upload_location.find('?') - registry->url().size());
    std::vector<std::string> seen;
    for (const auto& e : log)
        if (e.method != "GET") seen.push_back(e.method + " " + e.path() + " " + std::to_string(e.status));
    const std::string blob = "/blobs/" + layer.digest.str();
    // No PUT at all is shown in the comparison, not read past an empty selection.
    const auto log_puts = select(log, "PUT");
    const std::string put_path = log_puts.empty() ? "(no PUT)" : log_puts.front().path();
    CHECK(seen == std::vector<std::string>{
                      "POST /v2/other/blobs/uploads/ 202", "DELETE " + session + " 204",
                      "HEAD /v2/other" + blob + " 404",  // the CHECK_FALSE above
                      "HEAD /v2/other" + blob + " 404", "POST /v2/other/blobs/uploads/ 202",
                      "PUT " + put_path + " 201",
                      "HEAD /v2/third" + blob + " 404", "POST /v2/third/blobs/uploads/ 201",
                      "HEAD /v2/third" + blob + " 200"});
    // One upload, of the whole blob, into the session the refused mount opened; still one copy.
    const auto puts = select(log, "PUT");
    REQUIRE(puts.size() == 1);
    CHECK(uploads_digest(puts.front(), layer.digest));
    CHECK(wbclient::digest_of_file(registry->blob_data(layer.digest)) == layer.digest);
}

TEST_CASE("chapter 05: bad input gets a one-line error, a non-zero exit and nothing pushed", "[chapter05]") {
    Workspace workspace("chapter05-bad");
    auto registry = start_registry({.role = "registry"}, workspace.path());
    wbclient::RegistryClient seeder(registry->host_port());
    const wbclient::Digest busybox = harness::seed_busybox(seeder, "my-busybox", "latest");
    // An index as the base: which platform's image would we extend?
    const std::string manifest = seeder.get_manifest("my-busybox", "latest").bytes;
    const nlohmann::json index{{"schemaVersion", 2},
                               {"mediaType", wbclient::media_type::oci_index},
                               {"manifests",
                                {{{"mediaType", wbclient::media_type::docker_manifest},
                                  {"digest", busybox.str()},
                                  {"size", manifest.size()},
                                  {"platform", {{"os", "linux"}, {"architecture", "amd64"}}}}}}};
    seeder.put_manifest("my-busybox", "index", wbclient::media_type::oci_index, index.dump());
    const std::string local = registry->host_port();
    const std::string nobody = "127.0.0.1:" + std::to_string(free_loopback_port());
    const fs::path tmp = workspace.path() / "tmp";
    fs::create_directories(tmp);

    struct Case {
        std::vector<std::string> args;
        std::string expected;
    };
    const std::vector<Case> cases = {
        {{"--frobnicate"}, "unexpected argument '--frobnicate'; usage: 05_base_and_extending_images [--storage DIR]"},
        {{"a", "b", "c", "d", "e"}, "unexpected argument 'e'"},
        {{"--storage", "no-such-folder"}, "no-such-folder is not a registry's storage root (no docker/registry/v2/blobs)"},
        {{local + "/My-Busybox"}, "name component 'My-Busybox' must be lower-case"},
        {{local + "/my-busybox:nope"}, "/v2/my-busybox/manifests/nope: 404 Not Found, MANIFEST_UNKNOWN"},
        {{local + "/my-busybox:latest", nobody + "/elsewhere:latest"},
         nobody + "/elsewhere:latest is not on " + local + ", the base's registry"},
        {{local + "/my-busybox:index"}, "/my-busybox:index is an index of 1 manifests; name one platform's manifest"},
        {{nobody + "/my-busybox:latest"}, "GET http://" + nobody + "/v2/my-busybox/manifests/latest"},
    };
    for (const auto& c : cases) {
        const ChapterRun run = run_chapter(program, c.args, workspace,
                                           {{"WORKBOOK_REGISTRY", local}, {"TMPDIR", tmp.string()}});
        INFO(c.args.back() << ": " << run.result.err);
        check_refused(program, run.result, c.expected);
        // Nothing pushed, no scratch folder left behind.
        CHECK(fs::is_empty(tmp));
        for (const auto& e : registry->access_log()) CHECK((e.method != "PUT" || e.user_agent == harness_user_agent));
    }
    std::set<std::string> repositories;
    for (const auto& entry : fs::directory_iterator(v2(*registry) / "repositories"))
        repositories.insert(entry.path().filename().string());
    CHECK(repositories == std::set<std::string>{"my-busybox"});
}

namespace {

// The entries of an image's top layer, as the tar lists them: where its whiteouts show.
std::vector<std::string> top_layer_entries(const fs::path& layout) {
    const auto index = wbclient::Manifest::parse(wbclient::read_file(layout / "index.json"), wbclient::media_type::oci_index);
    const auto manifest = wbclient::Manifest::parse(
        wbclient::read_file(wbclient::layout_blob_path(layout, index.manifests.at(0).digest)), wbclient::media_type::oci_manifest);
    const auto listing = wbclient::list_layer(wbclient::read_file(wbclient::layout_blob_path(layout, manifest.layers.back().digest)));
    std::vector<std::string> paths;
    for (const auto& entry : listing.entries) paths.push_back(entry.path);
    return paths;
}

bool has(const std::vector<std::string>& paths, const std::string& path) {
    return std::find(paths.begin(), paths.end(), path) != paths.end();
}

}  // namespace

TEST_CASE("chapter 05: an extending image that deletes and replaces, by our library and by buildah; every image "
          "unpacked as umoci unpacks it, and the two that delete as podman's storage holds them", "[chapter05]") {
    Workspace workspace("chapter05-whiteouts");
    auto registry = start_registry({.role = "registry"}, workspace.path());
    const std::string host = registry->host_port();
    wbclient::RegistryClient client(host);
    client.http().set_user_agent(harness_user_agent);
    harness::seed_busybox(client, "my-busybox", "latest");
    const ChapterRun run = run_chapter(program, {}, workspace, {{"WORKBOOK_REGISTRY", host}});
    INFO(run.result.out << run.result.err);
    REQUIRE(run.result.exit_code == 0);

    // On top of my-app (busybox + app/hello.sh): `RUN rm /bin/date && rm -rf /app && mkdir /app`
    // + `COPY goodbye.sh /app/`, as a layer says it: a whiteout for bin/date, an opaque app/.
    const auto base = wbclient::pull_base_image(client, wbclient::Reference::parse(host + "/my-app:latest"),
                                                workspace.path() / "my-app.oci");
    wbclient::LayerBuilder changes;
    changes.add_whiteout("bin/date");
    changes.add_opaque_marker("app");
    changes.add_directory("app");
    changes.add_file("app/goodbye.sh", "#!/bin/sh\necho goodbye\n", 0755);
    const wbclient::Extension extension{
        .layer = changes.write(workspace.path() / "changes.tar.gz", wbclient::layer_media_type_for(base)),
        .created_by = "RUN rm /bin/date && rm -rf /app && mkdir /app; COPY goodbye.sh /app/"};
    const auto slim = wbclient::extend_image(base, extension);
    wbclient::push_extending_image(client, wbclient::Reference::parse(host + "/my-app:slim"), slim, base,
                                   wbclient::PushMode::reuse_layers);

    // The same with buildah: vfs storage and chroot isolation in the test's folder.
    const fs::path buildah_root = workspace.path() / "buildah";
    const std::vector<std::string> buildah = {"buildah", "--storage-driver", "vfs",
                                              "--root", (buildah_root / "root").string(),
                                              "--runroot", (buildah_root / "runroot").string()};
    const auto run_buildah = [&](std::vector<std::string> args) {
        std::vector<std::string> argv = buildah;
        argv.insert(argv.end(), args.begin(), args.end());
        const RunResult result = run_program(argv, {.timeout = std::chrono::seconds(120)});
        INFO(args.at(0) << ": " << result.out << result.err);
        REQUIRE(result.exit_code == 0);
        return result.out.substr(0, result.out.find_last_not_of('\n') + 1);
    };
    const std::string container =
        run_buildah({"from", "--quiet", "--tls-verify=false", "docker://" + host + "/my-app:latest"});
    run_buildah({"run", "--isolation", "chroot", container, "--", "sh", "-c",
                 "rm /bin/date && rm -rf /app && mkdir /app && echo goodbye > /app/goodbye.sh"});
    run_buildah({"commit", "--quiet", container, "my-app-buildah"});
    run_buildah({"push", "--quiet", "--tls-verify=false", "my-app-buildah", "docker://" + host + "/my-app:buildah"});
    // Blocks, not SECTIONs: the set-up above (the chapter, buildah) runs once for all three.

    {  // our library's image: the whiteout and the opaque marker in its layer, their effect in the rootfs
        const auto layout = test_support::copy_to_layout(host + "/my-app:slim", workspace.path() / "slim.layout", "slim");
        const auto entries = top_layer_entries(layout);
        CHECK(has(entries, "bin/.wh.date"));
        CHECK(has(entries, "app/.wh..wh..opq"));
        const auto tree = test_support::check_same_rootfs_as_umoci(layout, "slim", workspace.path() / "slim");
        test_support::check_same_rootfs_as_podman(host + "/my-app:slim", workspace.path() / "podman-slim", tree);
        CHECK_FALSE(tree.count("bin/date"));
        CHECK(tree.count("bin/echo"));
        CHECK_FALSE(tree.count("app/hello.sh"));
        CHECK(tree.at("app/goodbye.sh").starts_with("755 file "));
    }

    {  // buildah's image: its own whiteouts, the same effect, the same rootfs as umoci's
        const auto layout = test_support::copy_to_layout(host + "/my-app:buildah", workspace.path() / "buildah.layout", "buildah");
        const auto entries = top_layer_entries(layout);
        INFO("buildah's layer holds:\n" << [&] {
            std::string text;
            for (const auto& path : entries) text += path + "\n";
            return text;
        }());
        CHECK(has(entries, "bin/.wh.date"));
        // buildah diffs two trees: app/ was removed and made again, so hello.sh is whited out
        // one by one (an opaque marker is what overlayfs-backed storage writes instead).
        CHECK((has(entries, "app/.wh.hello.sh") || has(entries, "app/.wh..wh..opq")));
        const auto tree = test_support::check_same_rootfs_as_umoci(layout, "buildah", workspace.path() / "buildah-unpacked");
        test_support::check_same_rootfs_as_podman(host + "/my-app:buildah", workspace.path() / "podman-buildah", tree);
        CHECK_FALSE(tree.count("bin/date"));
        CHECK_FALSE(tree.count("app/hello.sh"));
        CHECK(tree.count("app/goodbye.sh"));
    }

    {  // the images chapter 05 builds, and its base: the same rootfs as umoci's
        for (const std::string tag : {"my-busybox:latest", "my-busybox:extended", "my-app:latest"}) {
            const std::string name = tag.substr(tag.find(':') + 1) + "-" + tag.substr(0, tag.find(':'));
            const auto layout = test_support::copy_to_layout(host + "/" + tag, workspace.path() / (name + ".layout"), "image");
            const auto tree = test_support::check_same_rootfs_as_umoci(layout, "image", workspace.path() / name);
            CHECK(tree.count("bin/busybox"));
            CHECK(tree.count("app/hello.sh") == (tag == "my-busybox:latest" ? 0 : 1));
        }
    }
}
