// Chapter 11: given an empty registry, when the program pushes a generated image one blob at a
// time and then four at a time, pulls it and copies it within the registry, then the
// registry's log shows the uploads one after another and then overlapping, every connection
// carrying many requests, and the copy done by mounts alone, with no byte uploaded.
#include "test_support.hpp"
#include "chapter_run.hpp"
#include "registry_instance.hpp"
#include "rootfs_comparison.hpp"
#include "scripted_server.hpp"

#include "noise.hpp"

#include "wbclient/image/built_image_layout.hpp"
#include "wbclient/transfer/image_transfer.hpp"
#include "wbclient/image/oci_layout.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <set>

using namespace harness;
using namespace test_support;
namespace fs = std::filesystem;

namespace {

const std::string program = "11_fast_transfers";

// The image the program built, read back from its layout: the manifest and its blobs.
struct BuiltLayout {
    wbclient::Digest manifest;
    std::vector<wbclient::Descriptor> blobs;  // config, then the four layers
};

BuiltLayout read_built_layout(const fs::path& layout) {
    const auto index = nlohmann::json::parse(read_existing_file(layout / "index.json"));
    const auto manifest = wbclient::descriptor_from_json(index["manifests"][0]);
    const auto bytes = read_existing_file(layout / "blobs/sha256" / std::string(manifest.digest.hex()));
    return {manifest.digest, wbclient::Manifest::parse(bytes, manifest.media_type).references()};
}

// The program's own requests as the registry logged them (the harness's probes left out).
std::vector<ObservedExchange> program_log(const RegistryInstance& registry) {
    auto log = registry.access_log();
    std::erase_if(log, [](const ObservedExchange& e) { return e.user_agent == harness_user_agent; });
    return log;
}

std::vector<ObservedExchange> blob_uploads(const std::vector<ObservedExchange>& log,
                                           const std::string& repository) {
    return select(log, "PUT", "/v2/" + repository + "/blobs/uploads/");
}

// True if some two of the requests were being served at the same time.
bool any_overlap(std::vector<ObservedExchange> exchanges) {
    std::sort(exchanges.begin(), exchanges.end(),
              [](const auto& a, const auto& b) { return a.started() < b.started(); });
    for (std::size_t i = 1; i < exchanges.size(); ++i)
        for (std::size_t j = 0; j < i; ++j)
            if (exchanges[i].started() < exchanges[j].completed) return true;
    return false;
}

std::set<std::string> connections_of(const std::vector<ObservedExchange>& exchanges) {
    std::set<std::string> addresses;
    for (const auto& e : exchanges) addresses.insert(e.remote_address);
    return addresses;
}

std::string timing(const std::vector<ObservedExchange>& exchanges) {
    std::string text;
    for (const auto& e : exchanges)
        text += e.method + " " + e.path() + " from " + e.remote_address + ": " +
                std::to_string(std::chrono::duration_cast<std::chrono::microseconds>(
                                   e.started().time_since_epoch()).count()) +
                " us + " + std::to_string(e.duration.count() / 1000) + " us\n";
    return text;
}

}  // namespace

TEST_CASE("chapter 11: one blob at a time, four at a time, a verified pull, a copy by mount",
          "[chapter11]") {
    Workspace workspace("chapter11");
    const auto registry = start_registry({.role = "registry"}, workspace.path());

    const ChapterRun run = run_chapter(program, {registry->host_port(), "fast"}, workspace);
    INFO(run.result.out << run.result.err);
    REQUIRE(run.result.exit_code == 0);
    const BuiltLayout built = read_built_layout(workspace.path() / "fast/built.oci");
    REQUIRE(built.blobs.size() == 5);
    CHECK_THAT(run.result.out, Catch::Contains("Every copy has manifest " + built.manifest.str()));
    const auto log = program_log(*registry);
    INFO("registry logged:\n" << summarize(log));

    {
        INFO("one at a time: five uploads, none overlapping another, all on one connection");
        const auto uploads = blob_uploads(log, "fast/one-by-one");
        INFO(timing(uploads));
        REQUIRE(uploads.size() == built.blobs.size());
        for (const auto& put : uploads) CHECK(put.status == 201);
        CHECK_FALSE(any_overlap(uploads));
        CHECK(connections_of(select(log, "", "/v2/fast/one-by-one/")).size() == 1);
    }

    {
        INFO("four at a time: the uploads overlap, on more than one connection and at most four");
        const auto uploads = blob_uploads(log, "fast/parallel");
        INFO(timing(uploads));
        REQUIRE(uploads.size() == built.blobs.size());
        for (const auto& put : uploads) CHECK(put.status == 201);
        CHECK(any_overlap(uploads));
        const auto connections = connections_of(uploads).size();
        CHECK(connections >= 2);
        CHECK(connections <= 4);
        // Each upload is one POST and one PUT with the whole blob: no PATCH, no chunks.
        CHECK(select(log, "PATCH").empty());
        for (const auto& blob : built.blobs) {
            const auto put = std::find_if(uploads.begin(), uploads.end(), [&](const auto& e) {
                return e.uri.ends_with("digest=" + blob.digest.str());
            });
            CHECK(put != uploads.end());
        }
    }

    {
        INFO("pushing again: a HEAD answered 200 per blob, nothing uploaded");
        for (const auto& blob : built.blobs) {
            const auto heads = select(log, "HEAD", "/v2/fast/parallel/blobs/" + blob.digest.str());
            REQUIRE(heads.size() == 2);
            CHECK(heads[0].status == 404);
            CHECK(heads[1].status == 200);
        }
        CHECK(select(log, "POST", "/v2/fast/parallel/blobs/uploads/").size() == built.blobs.size());
        CHECK(select(log, "PUT", "/v2/fast/parallel/manifests/latest").size() == 2);
    }

    {
        INFO("the pull: each blob fetched once, whole, and the layout verifies");
        for (const auto& blob : built.blobs) {
            const auto gets = select(log, "GET", "/v2/fast/parallel/blobs/" + blob.digest.str());
            REQUIRE(gets.size() == 1);
            CHECK(gets[0].status == 200);
            CHECK(gets[0].bytes_received == blob.size);
        }
        CHECK(wbclient::verify_oci_layout(workspace.path() / "fast/pulled.oci") == 6);
        CHECK_FALSE(has_partial_leftovers(workspace.path()));
    }

    {
        INFO("the copy within the registry: a mount answered 201 per blob, no byte uploaded");
        for (const auto& blob : built.blobs) {
            const auto mounts = select(log, "POST", "/v2/fast/mounted/blobs/uploads/?mount=" +
                                                        blob.digest.str() + "&from=fast/parallel");
            REQUIRE(mounts.size() == 1);
            CHECK(mounts[0].status == 201);
        }
        CHECK(blob_uploads(log, "fast/mounted").empty());
        CHECK(select(log, "PATCH", "/v2/fast/mounted/").empty());
        CHECK(select(log, "GET", "/v2/fast/mounted/blobs/").empty());
        const auto manifest = select(log, "PUT", "/v2/fast/mounted/manifests/latest");
        REQUIRE(manifest.size() == 1);
        CHECK(manifest[0].status == 201);
    }

    {
        INFO("connections: the client opened exactly the ones the registry saw, each used many times");
        long opened = 0;
        for (const auto& e : run.transcript) {
            CHECK(e.new_connections <= 1);
            opened += e.new_connections;
        }
        CHECK(run.transcript.size() == log.size());
        const auto seen = connections_of(log).size();
        CHECK(static_cast<std::size_t>(opened) == seen);
        // One connection for the caller, at most three more per parallel step (four of them).
        CHECK(seen <= 1 + 3 * 4);
        CHECK(log.size() > 3 * seen);
        CHECK_THAT(run.result.out, Catch::Contains("In all, " + std::to_string(log.size()) + " requests over " +
                                                   std::to_string(opened) + " connections."));
    }

    {
        INFO("the image it pushed, unpacked by our library, is the rootfs umoci unpacks");
        // The layout the program pulled back is the pushed image (same manifest digest, checked
        // above): unpacked where it lies, no second pull of its 12 MiB.
        const auto tree = check_same_rootfs_as_umoci(workspace.path() / "fast/pulled.oci", "latest",
                                                     workspace.path() / "unpacked");
        for (unsigned seed = 1; seed <= 4; ++seed) {
            const std::string file = "noise/" + std::to_string(seed) + ".bin";
            REQUIRE(tree.count(file));
            CHECK_THAT(tree.at(file), Catch::Contains(wbclient::digest_of(workbook::noise(3 << 20, seed)).str()));
        }
    }
}

TEST_CASE("chapter 11: a hundred HEADs reuse one connection; a parallel push opens one per worker",
          "[chapter11]") {
    Workspace workspace("chapter11-connections");
    const auto registry = start_registry({.role = "registry"}, workspace.path());
    wbclient::RegistryClient client(registry->host_port());
    // Workers' clients must be configured like the caller's: the registry sees who sent what.
    client.http().set_user_agent("fast-transfers-test/1.0");
    std::atomic<long> requests = 0, opened = 0;
    client.http().add_observer([&](const wbclient::Exchange& exchange) {
        ++requests;
        opened += exchange.new_connections;
    });

    // Twenty small layers: twenty-one blobs for four workers.
    std::vector<wbclient::ImageLayer> layers;
    for (int i = 0; i < 20; ++i) {
        wbclient::LayerBuilder layer;
        layer.add_file("file-" + std::to_string(i), std::string(1000 + i, 'x'));
        layers.push_back({layer.write(workspace.path() / ("layer-" + std::to_string(i) + ".tar.gz")), "layer"});
    }
    const auto image = wbclient::assemble_image({}, std::move(layers));
    wbclient::write_image_layout(image, workspace.path() / "many.oci", "latest");
    const auto destination = wbclient::Reference::parse(registry->host_port() + "/many:latest");

    // A hundred HEADs on one client: one connection, opened by the first.
    for (int i = 0; i < 100; ++i) CHECK(client.blob_size("many", image.config_blob.digest) == std::nullopt);
    CHECK(requests == 100);
    CHECK(opened == 1);

    // The caller's connection is reused; each other worker opens one (if it got a blob at all).
    wbclient::push_layout(client, workspace.path() / "many.oci", destination, {.parallel_blobs = 4});
    const long after_first = opened;
    CHECK(after_first >= 1 + 1);
    CHECK(after_first <= 1 + 3);
    // Again: 21 HEADs answered 200 and the manifest PUT, on at most four connections.
    const long before = requests;
    wbclient::push_layout(client, workspace.path() / "many.oci", destination, {.parallel_blobs = 4});
    CHECK(requests - before == 22);
    CHECK(opened - after_first <= 3);

    // The registry saw exactly the connections the client opened, all with its user agent.
    const auto log = program_log(*registry);
    CHECK(connections_of(log).size() == static_cast<std::size_t>(opened.load()));
    for (const auto& e : log) CHECK(e.user_agent == "fast-transfers-test/1.0");
    const auto heads = select(log, "HEAD", "/v2/many/blobs/" + image.config_blob.digest.str());
    CHECK(connections_of(std::vector<ObservedExchange>(heads.begin(), heads.begin() + 100)).size() == 1);
}

TEST_CASE("chapter 11: a tampered blob fails the parallel pull and leaves no layout", "[chapter11]") {
    Workspace workspace("chapter11-tamper");
    const auto registry = start_registry({.role = "registry"}, workspace.path());
    const std::vector<std::string> args{registry->host_port(), "fast"};
    REQUIRE(run_chapter(program, args, workspace).result.exit_code == 0);
    const BuiltLayout built = read_built_layout(workspace.path() / "fast/built.oci");

    // Flip one byte of a layer in the registry's storage: every later GET serves it wrong.
    REQUIRE(built.blobs.size() > 2);
    const auto& layer = built.blobs[2];
    flip_byte(registry->blob_data(layer.digest), 1000);

    const ChapterRun run = run_chapter(program, args, workspace);
    INFO(run.result.out << run.result.err);
    CHECK(run.result.exit_code == 1);
    CHECK(is_one_line(run.result.err));
    CHECK_THAT(run.result.err, Catch::StartsWith(program + ": ") &&
                                   Catch::Contains("blob " + layer.digest.str() + " arrived with digest sha256:"));
    CHECK_FALSE(fs::exists(workspace.path() / "fast/pulled.oci"));
    CHECK_FALSE(has_partial_leftovers(workspace.path()));
}

TEST_CASE("chapter 11: bad input gets a one-line error, a non-zero exit and nothing half-written",
          "[chapter11]") {
    Workspace workspace("chapter11-bad");
    ScriptedServer broken([](const std::string&, const std::string&) {
        return ScriptedResponse{.status = 500,
                                .headers = {{"Content-Type", "application/json"}},
                                .body = R"({"errors":[{"code":"UNKNOWN","message":"storage is on fire"}]})"};
    });
    const std::string nobody_listens = "127.0.0.1:" + std::to_string(free_loopback_port());
    fs::create_directories(workspace.path() / "precious/built.oci");
    std::ofstream(workspace.path() / "precious/built.oci/notes.txt") << "not an OCI layout\n";

    struct Case {
        std::vector<std::string> args;
        std::string expected;
    };
    const std::vector<Case> cases = {
        {{"ftp://127.0.0.1:5000", "out"}, "ftp://127.0.0.1:5000"},
        {{"127.0.0.1:5000/", "out"}, "127.0.0.1:5000/"},
        {{nobody_listens, "out"}, "Couldn't connect to server"},
        {{broken.host_port(), "out"}, "500 Internal Server Error"},
        {{nobody_listens, "precious"}, "precious/built.oci exists and is not an OCI layout"},
    };
    for (const auto& c : cases) {
        const ChapterRun run = run_chapter(program, c.args, workspace);
        INFO(c.args[0] << " " << c.args[1] << ": " << run.result.err);
        check_refused(program, run.result, c.expected);
        CHECK_FALSE(fs::exists(workspace.path() / "out/pulled.oci"));
        CHECK_FALSE(has_partial_leftovers(workspace.path()));
    }
    // The folder that was not a layout was left alone.
    CHECK(fs::exists(workspace.path() / "precious/built.oci/notes.txt"));
}

TEST_CASE("chapter 11: a copy between registries streams every blob, four at a time, byte for byte",
          "[chapter11]") {
    Workspace workspace("chapter11-copy");
    const auto source = start_registry({.role = "upstream"}, workspace.path());
    const auto destination = start_registry({.role = "registry"}, workspace.path());
    std::vector<wbclient::ImageLayer> layers;
    for (int i = 0; i < 6; ++i) {
        wbclient::LayerBuilder layer;
        layer.add_file("file-" + std::to_string(i), std::string(200000 + i, static_cast<char>('a' + i)));
        layers.push_back({layer.write(workspace.path() / ("layer-" + std::to_string(i) + ".tar.gz")), "layer"});
    }
    const auto image = wbclient::assemble_image({}, std::move(layers));
    wbclient::write_image_layout(image, workspace.path() / "six.oci", "latest");
    wbclient::RegistryClient from(source->host_port());
    wbclient::RegistryClient to(destination->host_port());
    const auto original = wbclient::Reference::parse(source->host_port() + "/six:latest");
    const auto copy = wbclient::Reference::parse(destination->host_port() + "/six-copy:v1");
    wbclient::push_layout(from, workspace.path() / "six.oci", original);

    std::vector<std::string> events;
    const wbclient::Digest copied = wbclient::copy_image(
        from, original, to, copy,
        wbclient::TransferOptions{.parallel_blobs = 4, .observe = [&](const wbclient::BlobEvent& event) {
            events.push_back(std::string(wbclient::to_string(event.action)) + " " + event.blob.digest.str());
        }});
    CHECK(copied == image.manifest_blob.digest);
    CHECK(events.size() == 7);

    const auto source_log = program_log(*source);
    const auto destination_log = program_log(*destination);
    INFO("source logged:\n" << summarize(source_log) << "destination logged:\n" << summarize(destination_log));
    std::vector<wbclient::Descriptor> blobs{image.config_blob};
    for (const auto& layer : image.layers) blobs.push_back(layer.built.blob);
    for (const auto& blob : blobs) {
        CHECK(std::count(events.begin(), events.end(), "copied " + blob.digest.str()) == 1);
        const auto gets = select(source_log, "GET", "/v2/six/blobs/" + blob.digest.str());
        REQUIRE(gets.size() == 1);
        CHECK(gets[0].bytes_received == blob.size);
        const auto put = std::find_if(destination_log.begin(), destination_log.end(), [&](const auto& e) {
            return e.method == "PUT" && e.uri.ends_with("digest=" + blob.digest.str());
        });
        REQUIRE(put != destination_log.end());
        CHECK(put->status == 201);
    }
    // Nothing was mounted or chunked, and the copy's manifest is byte for byte the original.
    CHECK(select(destination_log, "PATCH").empty());
    for (const auto& e : select(destination_log, "POST")) CHECK(e.uri.find("mount=") == std::string::npos);
    CHECK(to.get_manifest("six-copy", "v1").bytes == image.manifest);
}
