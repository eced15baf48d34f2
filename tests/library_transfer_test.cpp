// Whole-image transfers on a real registry: one plan and one worker pool behind push_image,
// push_extending_image, push_layout, copy_image and pull_to_layout. Each case asserts what
// went over the wire, as the client observed it: which requests, in what order, with what
// answers, and which blobs sent bytes.
#include "registry_instance.hpp"
#include "workspace.hpp"

#include "wbclient/distribution/registry_error.hpp"
#include "wbclient/image/built_image_layout.hpp"
#include "wbclient/image/image_builder.hpp"
#include "wbclient/image/index_builder.hpp"
#include "wbclient/image/layer_builder.hpp"
#include "wbclient/image/oci_layout.hpp"
#include "wbclient/transfer/chunked_upload.hpp"
#include "wbclient/transfer/image_extension.hpp"
#include "wbclient/transfer/image_transfer.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <mutex>

using harness::start_registry;
using harness::Workspace;
namespace fs = std::filesystem;

namespace {

// What the client saw: "HEAD /v2/r/blobs/sha256:... 404", in the order the exchanges ended.
struct Seen {
    std::string method, path, query;
    long status = 0;
    std::uint64_t bytes_sent = 0;
    long new_connections = 0;
    std::string line() const { return method + " " + path + (query.empty() ? "" : "?" + query) + " " + std::to_string(status); }
};

class Recorder {
public:
    explicit Recorder(wbclient::RegistryClient& client) {
        // Siblings (the pool's other workers) inherit the observer.
        client.http().add_observer([this](const wbclient::Exchange& exchange) {
            const auto after_host = exchange.url.find('/', exchange.url.find("//") + 2);
            const std::string target = exchange.url.substr(after_host);
            const auto question = target.find('?');
            const std::lock_guard lock(mutex_);
            seen_.push_back(Seen{.method = exchange.method,
                                 .path = target.substr(0, question),
                                 .query = question == std::string::npos ? "" : target.substr(question + 1),
                                 .status = exchange.status,
                                 .bytes_sent = exchange.bytes_sent,
                                 .new_connections = exchange.new_connections});
        });
    }
    std::vector<Seen> take() {
        const std::lock_guard lock(mutex_);
        return std::exchange(seen_, {});
    }

private:
    std::mutex mutex_;
    std::vector<Seen> seen_;
};

std::string lines(const std::vector<Seen>& seen) {
    std::string out;
    for (const Seen& s : seen) out += s.line() + "\n";
    return out;
}

// Requests that name `digest` in their path or query (HEAD, GET, the upload's PUT, a mount's POST).
std::vector<Seen> naming(const std::vector<Seen>& seen, const wbclient::Digest& digest) {
    std::vector<Seen> out;
    for (const Seen& s : seen)
        if (s.path.find(digest.str()) != std::string::npos || s.query.find(digest.str()) != std::string::npos)
            out.push_back(s);
    return out;
}

wbclient::ImageLayer make_layer(const fs::path& directory, const std::string& name, std::size_t size) {
    wbclient::LayerBuilder layer;
    layer.add_file(name, std::string(size, name.empty() ? 'x' : name[0]));
    return {layer.write(directory / (name + ".tar.gz")), "COPY " + name + " /"};
}

std::vector<std::string> narrated(std::vector<std::string>& events) { return std::exchange(events, {}); }

wbclient::BlobObserver recording(std::vector<std::string>& events) {
    return [&events](const wbclient::BlobEvent& event) {
        events.push_back(std::string(wbclient::to_string(event.action)) + " " + event.blob.digest.str());
    };
}

}  // namespace

TEST_CASE("push_image: HEAD, then POST and PUT for what is missing, on one connection, manifest last",
          "[library][transfer]") {
    Workspace workspace("transfer-push-image");
    const auto registry = start_registry({}, workspace.path());
    wbclient::RegistryClient client(registry->host_port());
    Recorder recorder(client);

    std::vector<wbclient::ImageLayer> layers{make_layer(workspace.path(), "a", 3000),
                                             make_layer(workspace.path(), "b", 5000)};
    const auto image = wbclient::assemble_image({}, layers);
    const auto& a = image.layers[0].built.blob;
    const auto& b = image.layers[1].built.blob;
    // Layer a is already in the repository.
    client.push_blob("app", a, image.layers[0].built.file);
    recorder.take();

    std::vector<std::string> events;
    const auto destination = wbclient::Reference::parse(registry->host_port() + "/app:v1");
    CHECK(wbclient::push_image(client, destination, image, recording(events)) == image.manifest_blob.digest);

    const auto seen = recorder.take();
    INFO(lines(seen));
    REQUIRE(seen.size() == 8);
    CHECK(seen[0].line() == "HEAD /v2/app/blobs/" + a.digest.str() + " 200");
    CHECK(seen[1].line() == "HEAD /v2/app/blobs/" + b.digest.str() + " 404");
    CHECK(seen[2].line() == "POST /v2/app/blobs/uploads/ 202");
    CHECK(seen[3].method == "PUT");
    CHECK(seen[3].query.find("digest=" + b.digest.str()) != std::string::npos);
    CHECK(seen[3].bytes_sent == b.size);
    CHECK(seen[4].line() == "HEAD /v2/app/blobs/" + image.config_blob.digest.str() + " 404");
    CHECK(seen[5].line() == "POST /v2/app/blobs/uploads/ 202");
    CHECK(seen[6].query.find("digest=" + image.config_blob.digest.str()) != std::string::npos);
    CHECK(seen[6].status == 201);
    CHECK(seen[7].line() == "PUT /v2/app/manifests/v1 201");
    // Nothing of layer a but the question.
    CHECK(naming(seen, a.digest).size() == 1);
    // One connection, the one the first push_blob opened: sequential on the caller's client.
    long opened = 0;
    for (const Seen& s : seen) opened += s.new_connections;
    CHECK(opened == 0);
    CHECK(narrated(events) == std::vector<std::string>{"exists " + a.digest.str(), "pushed " + b.digest.str(),
                                                       "pushed " + image.config_blob.digest.str()});
}

TEST_CASE("push_layout: the first failing blob stops the pool, and no manifest is PUT", "[library][transfer]") {
    Workspace workspace("transfer-failure");
    const auto registry = start_registry({}, workspace.path());
    wbclient::RegistryClient client(registry->host_port());
    Recorder recorder(client);

    std::vector<wbclient::ImageLayer> layers;
    for (int i = 0; i < 8; ++i) layers.push_back(make_layer(workspace.path(), "layer" + std::to_string(i), 2000 + i));
    const auto image = wbclient::assemble_image({}, layers);
    const fs::path layout = workspace.path() / "image.oci";
    wbclient::write_image_layout(image, layout, "latest");
    // The third blob in manifest order (config, layer0, layer1, ...) keeps its size but not its
    // bytes: the registry refuses it (400 DIGEST_INVALID) when the upload ends.
    const auto& broken = image.layers[1].built.blob;
    {
        std::fstream file(wbclient::layout_blob_path(layout, broken.digest), std::ios::in | std::ios::out | std::ios::binary);
        file.seekp(100);
        file.put('\xff');
    }
    const auto destination = wbclient::Reference::parse(registry->host_port() + "/broken:latest");

    SECTION("one worker: nothing after the failing blob starts") {
        std::vector<std::string> events;
        CHECK_THROWS_WITH(wbclient::push_layout(client, layout, destination,
                                                {.parallel_blobs = 1, .observe = recording(events)}),
                          Catch::Contains("400"));
        const auto seen = recorder.take();
        INFO(lines(seen));
        REQUIRE_FALSE(seen.empty());
        CHECK(seen.back().method == "PUT");
        CHECK(seen.back().status == 400);
        CHECK(seen.back().query.find(broken.digest.str()) != std::string::npos);
        for (std::size_t i = 2; i < image.layers.size(); ++i) CHECK(naming(seen, image.layers[i].built.blob.digest).empty());
        CHECK(narrated(events) == std::vector<std::string>{"pushed " + image.config_blob.digest.str(),
                                                           "pushed " + image.layers[0].built.blob.digest.str()});
    }
    SECTION("four workers: the registry's refusal is the error, and no manifest goes") {
        CHECK_THROWS_WITH(wbclient::push_layout(client, layout, destination, {.parallel_blobs = 4}),
                          Catch::Contains("DIGEST_INVALID") || Catch::Contains("400"));
        const auto seen = recorder.take();
        INFO(lines(seen));
        for (const Seen& s : seen) CHECK(s.path.find("/manifests/") == std::string::npos);
    }
    // Either way the registry has no manifest.
    CHECK_THROWS_AS(wbclient::head_manifest(client, "broken", "latest"), wbclient::RegistryError);
}

TEST_CASE("push_extending_image: reuse_layers mounts the base's layers, upload_everything asks nothing",
          "[library][transfer]") {
    Workspace workspace("transfer-extending");
    const auto registry = start_registry({}, workspace.path());
    wbclient::RegistryClient client(registry->host_port());
    const auto base_image = wbclient::assemble_image(
        {}, {make_layer(workspace.path(), "base1", 4000), make_layer(workspace.path(), "base2", 6000)});
    const auto base_reference = wbclient::Reference::parse(registry->host_port() + "/base:1");
    wbclient::push_image(client, base_reference, base_image);
    const auto base = wbclient::pull_base_image(client, base_reference, workspace.path() / "base.oci");
    wbclient::LayerBuilder added;
    added.add_file("app", "the application\n");
    const auto image = wbclient::extend_image(
        base, {.layer = added.write(workspace.path() / "app.tar.gz"), .created_by = "COPY app /"});
    Recorder recorder(client);

    SECTION("reuse_layers") {
        std::vector<std::string> events;
        const auto destination = wbclient::Reference::parse(registry->host_port() + "/app:1");
        CHECK(wbclient::push_extending_image(client, destination, image, base, wbclient::PushMode::reuse_layers,
                                             recording(events)) == image.manifest_blob.digest);
        const auto seen = recorder.take();
        INFO(lines(seen));
        for (const auto& layer : base.parsed.layers) {
            const auto about = naming(seen, layer.digest);
            REQUIRE(about.size() == 2);
            CHECK(about[0].line() == "HEAD /v2/app/blobs/" + layer.digest.str() + " 404");
            CHECK(about[1].method == "POST");
            CHECK(about[1].query == "mount=" + layer.digest.str() + "&from=base");
            CHECK(about[1].status == 201);
            CHECK(about[1].bytes_sent == 0);
        }
        const auto& own = image.layers.back().built.blob;
        const auto about_own = naming(seen, own.digest);
        REQUIRE(about_own.size() == 2);  // HEAD 404, then the upload's PUT (after a plain POST)
        CHECK(about_own[1].method == "PUT");
        CHECK(about_own[1].bytes_sent == own.size);
        CHECK(seen.back().line() == "PUT /v2/app/manifests/1 201");
        CHECK(narrated(events) ==
              std::vector<std::string>{"mounted " + base.parsed.layers[0].digest.str(),
                                       "mounted " + base.parsed.layers[1].digest.str(), "pushed " + own.digest.str(),
                                       "pushed " + image.config_blob.digest.str()});
    }
    SECTION("upload_everything") {
        const auto destination = wbclient::Reference::parse(registry->host_port() + "/app-again:1");
        wbclient::push_extending_image(client, destination, image, base, wbclient::PushMode::upload_everything);
        const auto seen = recorder.take();
        INFO(lines(seen));
        // POST and PUT per blob (three layers and the config), then the manifest; no HEAD, no mount.
        REQUIRE(seen.size() == 9);
        for (std::size_t i = 0; i < 8; i += 2) {
            CHECK(seen[i].line() == "POST /v2/app-again/blobs/uploads/ 202");
            CHECK(seen[i + 1].method == "PUT");
            CHECK(seen[i + 1].status == 201);
        }
        CHECK(seen[8].line() == "PUT /v2/app-again/manifests/1 201");
    }
}

TEST_CASE("copy_image within a registry mounts every blob, the plain copy sends them", "[library][transfer]") {
    Workspace workspace("transfer-copy");
    const auto registry = start_registry({}, workspace.path());
    wbclient::RegistryClient client(registry->host_port());
    const auto image = wbclient::assemble_image(
        {}, {make_layer(workspace.path(), "one", 3000), make_layer(workspace.path(), "two", 3001)});
    const auto source = wbclient::Reference::parse(registry->host_port() + "/source:1");
    wbclient::push_image(client, source, image);
    Recorder recorder(client);

    std::vector<std::string> events;
    const auto mounted_copy = wbclient::Reference::parse(registry->host_port() + "/mounted:1");
    CHECK(wbclient::copy_image(client, source, client, mounted_copy, {.parallel_blobs = 2, .observe = recording(events)}) ==
          image.manifest_blob.digest);
    auto seen = recorder.take();
    INFO(lines(seen));
    const std::vector<wbclient::Descriptor> blobs{image.config_blob, image.layers[0].built.blob,
                                                  image.layers[1].built.blob};
    for (const auto& blob : blobs) {
        const auto about = naming(seen, blob.digest);
        REQUIRE(about.size() == 2);
        CHECK(about[0].line() == "HEAD /v2/mounted/blobs/" + blob.digest.str() + " 404");
        CHECK(about[1].line() == "POST /v2/mounted/blobs/uploads/?mount=" + blob.digest.str() + "&from=source 201");
        CHECK(std::count(events.begin(), events.end(), "mounted " + blob.digest.str()) == 1);
    }
    CHECK(seen.back().line() == "PUT /v2/mounted/manifests/1 201");

    // The plain copy: each blob downloaded (GET) and uploaded (POST, PUT), one after another.
    const auto plain_copy = wbclient::Reference::parse(registry->host_port() + "/plain:1");
    wbclient::copy_image(client, source, client, plain_copy);
    seen = recorder.take();
    INFO(lines(seen));
    for (const auto& blob : blobs) {
        const auto about = naming(seen, blob.digest);
        REQUIRE(about.size() == 3);
        CHECK(about[0].line() == "HEAD /v2/plain/blobs/" + blob.digest.str() + " 404");
        const auto get = std::find_if(about.begin(), about.end(), [](const Seen& s) { return s.method == "GET"; });
        REQUIRE(get != about.end());
        CHECK(get->line() == "GET /v2/source/blobs/" + blob.digest.str() + " 200");
        const auto put = std::find_if(about.begin(), about.end(), [](const Seen& s) { return s.method == "PUT"; });
        REQUIRE(put != about.end());
        CHECK(put->bytes_sent == blob.size);
    }
    CHECK(seen.back().line() == "PUT /v2/plain/manifests/1 201");
}

TEST_CASE("an index is copied and pulled children first: blobs, then each manifest, then the index",
          "[library][transfer]") {
    Workspace workspace("transfer-index");
    const auto registry = start_registry({}, workspace.path());
    wbclient::RegistryClient client(registry->host_port());
    std::vector<wbclient::Descriptor> children;
    for (const std::string architecture : {"amd64", "arm64"}) {
        const auto image = wbclient::assemble_image({.architecture = architecture},
                                                    {make_layer(workspace.path(), architecture, 2500)});
        wbclient::push_image(client, wbclient::Reference::parse(registry->host_port() + "/multi:" + architecture), image);
        wbclient::Descriptor child = image.manifest_blob;
        child.platform = wbclient::Platform{.os = "linux", .architecture = architecture};
        children.push_back(child);
    }
    const auto index = wbclient::assemble_index(wbclient::IndexFormat::oci_index, children);
    client.put_manifest("multi", "latest", index.descriptor.media_type, index.bytes);
    Recorder recorder(client);

    const auto copy = wbclient::Reference::parse(registry->host_port() + "/multi-copy:latest");
    CHECK(wbclient::copy_image(client, wbclient::Reference::parse(registry->host_port() + "/multi:latest"), client,
                               copy, {.parallel_blobs = 4}) == index.descriptor.digest);
    const auto seen = recorder.take();
    INFO(lines(seen));
    std::vector<std::string> manifest_puts;
    std::size_t first_manifest_put = seen.size(), last_blob_request = 0;
    for (std::size_t i = 0; i < seen.size(); ++i) {
        if (seen[i].method == "PUT" && seen[i].path.starts_with("/v2/multi-copy/manifests/")) {
            manifest_puts.push_back(seen[i].path.substr(std::string("/v2/multi-copy/manifests/").size()));
            first_manifest_put = std::min(first_manifest_put, i);
        }
        if (seen[i].path.starts_with("/v2/multi-copy/blobs/")) last_blob_request = i;
    }
    CHECK(manifest_puts == std::vector<std::string>{children[0].digest.str(), children[1].digest.str(), "latest"});
    CHECK(last_blob_request < first_manifest_put);

    // The pull writes the same documents into a layout that names the index.
    wbclient::pull_to_layout(client, copy, workspace.path() / "pulled.oci", {.parallel_blobs = 3});
    CHECK(wbclient::verify_oci_layout(workspace.path() / "pulled.oci") == 4 + 2 + 1);
}

TEST_CASE("a refused mount falls back to the session it opened: filled from the file, or cancelled",
          "[library][transfer]") {
    Workspace workspace("transfer-mount-refused");
    const auto registry = start_registry({}, workspace.path());
    wbclient::RegistryClient client(registry->host_port());
    const auto base_image = wbclient::assemble_image(
        {}, {make_layer(workspace.path(), "kept", 4000), make_layer(workspace.path(), "lost", 4100)});
    const auto base_reference = wbclient::Reference::parse(registry->host_port() + "/base:1");
    wbclient::push_image(client, base_reference, base_image);
    const auto base = wbclient::pull_base_image(client, base_reference, workspace.path() / "base.oci");
    // The base's repository no longer links its second layer: a mount from there is refused.
    const auto& lost = base_image.layers[1].built.blob;
    wbclient::delete_blob(client, "base", lost.digest);
    Recorder recorder(client);

    SECTION("push_extending_image sends the file into the session the mount opened") {
        wbclient::LayerBuilder added;
        added.add_file("app", "the application\n");
        const auto image = wbclient::extend_image(
            base, {.layer = added.write(workspace.path() / "app.tar.gz"), .created_by = "COPY app /"});
        std::vector<std::string> events;
        wbclient::push_extending_image(client, wbclient::Reference::parse(registry->host_port() + "/app:1"), image,
                                       base, wbclient::PushMode::reuse_layers, recording(events));
        const auto seen = recorder.take();
        INFO(lines(seen));
        const auto about = naming(seen, lost.digest);
        REQUIRE(about.size() == 3);
        CHECK(about[0].line() == "HEAD /v2/app/blobs/" + lost.digest.str() + " 404");
        CHECK(about[1].line() == "POST /v2/app/blobs/uploads/?mount=" + lost.digest.str() + "&from=base 202");
        CHECK(about[2].method == "PUT");
        CHECK(about[2].status == 201);
        CHECK(about[2].bytes_sent == lost.size);
        // No second session: the POST that asked for the mount is the only one for this blob.
        const auto post = std::find_if(seen.begin(), seen.end(), [&](const Seen& s) {
            return s.method == "POST" && s.query.find(lost.digest.str()) != std::string::npos;
        });
        REQUIRE(post != seen.end());
        CHECK(std::next(post)->method == "PUT");
        CHECK(std::count(events.begin(), events.end(), "pushed " + lost.digest.str()) == 1);
        CHECK(std::count(events.begin(), events.end(), "mounted " + base.parsed.layers[0].digest.str()) == 1);
    }
    SECTION("copy_image cannot read the blob either: the session is cancelled and no manifest goes") {
        // The source manifest still names the blob its repository lost.
        CHECK_THROWS_AS(wbclient::copy_image(client, base_reference, client,
                                             wbclient::Reference::parse(registry->host_port() + "/copy:1"),
                                             {.parallel_blobs = 1}),
                        wbclient::RegistryError);
        const auto seen = recorder.take();
        INFO(lines(seen));
        const auto about = naming(seen, lost.digest);
        REQUIRE(about.size() >= 3);
        CHECK(about[1].line() == "POST /v2/copy/blobs/uploads/?mount=" + lost.digest.str() + "&from=base 202");
        CHECK(about[2].line() == "GET /v2/base/blobs/" + lost.digest.str() + " 404");
        // The upload into the session began beside the download and was abandoned unanswered.
        for (std::size_t i = 3; i < about.size(); ++i) CHECK(about[i].line().ends_with(" 0"));
        CHECK(seen.back().method == "DELETE");
        CHECK(seen.back().path.starts_with("/v2/copy/blobs/uploads/"));
        CHECK(seen.back().status == 204);
        for (const Seen& s : seen) CHECK((s.path.find("/manifests/") == std::string::npos || s.method == "GET"));
    }
}

TEST_CASE("byte counts: as people type them, in powers of 1024", "[library][transfer]") {
    using wbclient::parse_byte_count;
    CHECK(parse_byte_count("1048576") == 1048576);
    CHECK(parse_byte_count("512K") == 512 * 1024);
    CHECK(parse_byte_count("1MiB") == 1024 * 1024);
    CHECK(parse_byte_count("2g") == 2ull << 30);
    CHECK(parse_byte_count("3KB") == 3 * 1024);
    CHECK_THROWS_WITH(parse_byte_count(""), Catch::Contains("expected digits"));
    CHECK_THROWS_WITH(parse_byte_count("M"), Catch::Contains("expected digits"));
    CHECK_THROWS_WITH(parse_byte_count("1T"), Catch::Contains("unknown unit 'T'"));
    CHECK_THROWS_WITH(parse_byte_count("99999999999999999999"), Catch::Contains("too large"));
    CHECK_THROWS_WITH(parse_byte_count("17179869184G"), Catch::Contains("too large"));
}
