// Reliability of a pull-through cache (chapter 12, issue 14): the upstream dies while the mirror
// is serving a big blob it does not have yet. Given an upstream holding an image with one
// 256 MiB layer of noise and a mirror of it (registry 2.8.2, proxy.remoteurl) that has only the
// manifest, when the upstream is killed (SIGKILL) after the client has received the first
// 16 MiB of the layer through the mirror, then the client gets an error and no blob (what it
// received is the blob's first bytes followed by the mirror's JSON error document, in a body
// announced as 200 with the blob's length: only the size and digest checks catch it); the
// mirror stays up; it keeps no partial or wrong blob among its blobs (the partial copy stays in
// an upload session under _uploads); and once the upstream is back, the same pull through the
// mirror succeeds, verifies, and the mirror keeps the blob whole and serves it on its own.
//
// The moment of the crash comes from the bytes the client has seen (the sink fetch_blob streams
// into), not from a sleep: the upstream is killed from inside that sink, so the transfer is
// pinned mid-way whatever the machine's speed.
#include "test_support.hpp"
#include "registry_instance.hpp"

#include "noise.hpp"
#include "wbclient/distribution/blobs.hpp"
#include "wbclient/distribution/registry_client.hpp"
#include "wbclient/image/image_builder.hpp"
#include "wbclient/image/layer_builder.hpp"
#include "wbclient/image/oci_layout.hpp"
#include "wbclient/model/digest.hpp"
#include "wbclient/transfer/image_transfer.hpp"

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <fstream>
#include <iterator>
#include <sstream>

using namespace harness;
using namespace test_support;
namespace fs = std::filesystem;

namespace {

constexpr std::uint64_t layer_bytes = 256ull << 20;
constexpr std::uint64_t kill_after = 16ull << 20;
const std::string repository = "big/image";

// One layer of noise, stored uncompressed (gzip level 0): noise does not shrink, and
// compressing 256 MiB would only make the test slow.
wbclient::BuiltImage big_image(const fs::path& directory) {
    fs::create_directories(directory);
    const fs::path content = directory / "data.bin";
    workbook::write_noise(content, layer_bytes, 14);
    wbclient::LayerBuilder layer;
    layer.add_file_from("data.bin", content, 0644);
    layer.set_compression_level(0);
    std::vector<wbclient::ImageLayer> layers;
    layers.push_back({layer.write(directory / "layer.tar.gz"), "ADD data.bin /"});
    fs::remove(content);
    wbclient::ImageSpec spec;
    spec.cmd = {"/bin/true"};
    spec.labels["org.opencontainers.image.title"] = "reliability-mirror";
    return wbclient::assemble_image(spec, std::move(layers));
}

wbclient::RegistryClient client_of(const RegistryInstance& registry) {
    wbclient::ClientOptions options;
    // A transfer that stalls fails in bounded time instead of hanging the test.
    options.stall_timeout = std::chrono::seconds(10);
    options.user_agent = "reliability-mirror-test";
    return wbclient::RegistryClient(registry.host_port(), options);
}

std::uint64_t size_or_zero(const fs::path& file) {
    std::error_code error;
    const auto size = fs::file_size(file, error);
    return error ? 0 : size;
}

// The offset of the first of the first `count` bytes in which the two files differ, or -1.
long long first_difference(const fs::path& a, const fs::path& b, std::uint64_t count) {
    std::ifstream first(a, std::ios::binary), second(b, std::ios::binary);
    std::string x(1 << 20, '\0'), y(1 << 20, '\0');
    for (std::uint64_t done = 0; done < count;) {
        const auto n = static_cast<std::streamsize>(std::min<std::uint64_t>(x.size(), count - done));
        first.read(x.data(), n);
        second.read(y.data(), n);
        if (first.gcount() != n || second.gcount() != n) return static_cast<long long>(done);
        for (std::streamsize i = 0; i < n; ++i)
            if (x[static_cast<std::size_t>(i)] != y[static_cast<std::size_t>(i)])
                return static_cast<long long>(done) + i;
        done += static_cast<std::uint64_t>(n);
    }
    return -1;
}

// Every regular file below `directory`, with its size, one per line: what the mirror keeps.
std::string listing(const fs::path& directory) {
    std::ostringstream out;
    std::error_code error;
    for (const auto& entry : fs::recursive_directory_iterator(directory, error))
        if (entry.is_regular_file())
            out << fs::relative(entry.path(), directory).string() << " " << entry.file_size() << '\n';
    return out.str();
}

// The data files of the mirror's upload sessions for `repository`: where 2.8.2's proxy blob
// store writes a blob it is fetching, before it moves the finished blob into blobs/.
std::vector<fs::path> upload_data_files(const RegistryInstance& mirror) {
    std::vector<fs::path> files;
    const fs::path uploads =
        mirror.storage_root() / "docker/registry/v2/repositories" / repository / "_uploads";
    std::error_code error;
    for (const auto& session : fs::directory_iterator(uploads, error))
        if (fs::exists(session.path() / "data")) files.push_back(session.path() / "data");
    return files;
}

// The mirror's copy of `blob`: none, or the whole blob and nothing but it.
void check_no_partial_blob(const RegistryInstance& mirror, const wbclient::Descriptor& blob) {
    const fs::path data = mirror.blob_data(blob.digest);
    if (!fs::exists(data)) return;
    CHECK(fs::file_size(data) == blob.size);
    CHECK(wbclient::digest_of_file(data) == blob.digest);
}

}  // namespace

TEST_CASE("reliability: the upstream dies while a mirror serves a big blob", "[reliability][mirror]") {
    Workspace workspace("reliability-mirror");
    auto upstream = start_registry({.role = "upstream"}, workspace.path(), "native");
    auto mirror = start_registry(mirror_of(*upstream), workspace.path(), "native");
    const wbclient::BuiltImage image = big_image(workspace.path() / "image");
    const wbclient::Descriptor& layer = image.layers.at(0).built.blob;
    const fs::path& layer_file = image.layers.at(0).built.file;
    std::size_t uploads_after_kill = 0;
    REQUIRE(layer.size > layer_bytes);
    {
        wbclient::RegistryClient seeding(upstream->host_port());
        seeding.http().set_user_agent(harness_user_agent);
        wbclient::push_image(seeding, wbclient::Reference::parse(upstream->host_port() + "/" +
                                                                 repository + ":latest"),
                             image);
    }

    wbclient::RegistryClient through_mirror = client_of(*mirror);
    // A pull starts with the manifest: the mirror fetches it and keeps it.
    REQUIRE(through_mirror.get_manifest(repository, "latest").digest == image.manifest_blob.digest);

    // The layer, into a file as a client would stage it; the upstream dies after 16 MiB.
    const fs::path staged = workspace.path() / "layer.partial";
    std::uint64_t received = 0, received_at_kill = 0;
    std::string failure;
    {
        std::ofstream out(staged, std::ios::binary);
        try {
            wbclient::fetch_blob(through_mirror, repository, layer, [&](const char* data, std::size_t size) {
                out.write(data, static_cast<std::streamsize>(size));
                received += size;
                if (received_at_kill == 0 && received >= kill_after) {
                    received_at_kill = received;
                    upstream->kill();
                }
            });
        } catch (const std::exception& error) {
            failure = error.what();
        }
    }
    INFO("the client received " << received << " of " << layer.size << " bytes ("
                                << received_at_kill << " when the upstream was killed): "
                                << failure);
    REQUIRE(received_at_kill >= kill_after);

    {  // The client got an error and no blob: the mirror's answer ended early.
        CHECK_FALSE(failure.empty());
        CHECK(received < layer.size);
        // The mirror had promised the whole blob (200 and its Content-Length) before the
        // upstream died, so the connection just ends short: libcurl's "partial file".
        CHECK_THAT(failure, Catch::Contains("GET " + mirror->url() + "/v2/" + repository +
                                            "/blobs/" + layer.digest.str()));
        CHECK_THAT(failure, Catch::Contains("Transferred a partial file") ||
                                Catch::Contains("Failure when receiving data from the peer"));
        // What reached the client: the blob's own first bytes, then the mirror's JSON error
        // document. 2.8.2 writes the error of its failed upstream read into the 200 body it
        // had begun, so a client that trusted the status and kept the bytes would hold a
        // "blob" with JSON in it; the size (and the digest) give it away.
        CHECK(size_or_zero(staged) == received);
        const long long blob_bytes = first_difference(staged, layer_file, received);
        REQUIRE(blob_bytes > static_cast<long long>(kill_after));
        std::ifstream in(staged, std::ios::binary);
        in.seekg(blob_bytes);
        const std::string appended{std::istreambuf_iterator<char>(in), {}};
        INFO("after " << blob_bytes << " bytes of the blob: " << appended.substr(0, 300));
        const auto error = nlohmann::json::parse(appended, nullptr, false);
        REQUIRE_FALSE(error.is_discarded());
        CHECK(error["errors"][0]["code"] == "UNKNOWN");
    }

    {  // The mirror is still up; it keeps no partial blob; a blob it lacks now fails cleanly.
        const auto answer = through_mirror.http().perform({.url = mirror->url() + "/v2/"});
        CHECK(answer.status == 200);
        check_no_partial_blob(*mirror, layer);
        const bool stored_before_kill = fs::exists(mirror->blob_data(layer.digest));
        INFO("the mirror's storage after the kill:\n" << listing(mirror->storage_root()));
        // Its own fetch of the layer died with the upstream: 2.8.2 logs that it could not
        // commit it, and never moved a partial file into blobs/.
        CHECK_FALSE(stored_before_kill);
        CHECK(poll_until([&] { return mirror->log().find("Error committing to storage") != std::string::npos; },
                         std::chrono::seconds(20)));
        // The upload session it was writing into is left behind under _uploads (the proxy
        // neither cancels nor resumes it): one session, its data file holding part of the blob
        // (about 11 MiB when the client had 16), and its startedat file. The registry's upload
        // purger (on by default) removes such sessions only once they are a week old.
        const auto sessions = upload_data_files(*mirror);
        REQUIRE(sessions.size() == 1);
        CHECK(size_or_zero(sessions[0]) > 0);
        CHECK(size_or_zero(sessions[0]) < layer.size);
        CHECK(fs::exists(sessions[0].parent_path() / "startedat"));
        uploads_after_kill = sessions.size();
        // Asked for the layer again while the upstream is down: the registry's own error.
        const auto again = through_mirror.http().perform(
            {.url = mirror->url() + "/v2/" + repository + "/blobs/" + layer.digest.str()});
        INFO(again.status << " " << again.body);
        CHECK(again.status >= 500);
        check_no_partial_blob(*mirror, layer);
    }

    {  // The upstream is back: the same pull through the mirror succeeds and verifies.
        upstream->start();
        const fs::path second = workspace.path() / "layer.second";
        {
            std::ofstream out(second, std::ios::binary);
            wbclient::fetch_blob(through_mirror, repository, layer, [&](const char* data, std::size_t size) {
                out.write(data, static_cast<std::streamsize>(size));
            });
        }
        CHECK(wbclient::digest_of_file(second) == layer.digest);
        const fs::path layout = workspace.path() / "pulled.oci";
        CHECK(wbclient::pull_to_layout(through_mirror,
                                       wbclient::Reference::parse(mirror->host_port() + "/" +
                                                                  repository + ":latest"),
                                       layout) == image.manifest_blob.digest);
        CHECK(wbclient::verify_oci_layout(layout) == 3);  // manifest, config, the layer

        // The mirror stores what it fetched in the background; once the blob is in blobs/ it
        // is whole and right.
        const bool stored = poll_until([&] { return size_or_zero(mirror->blob_data(layer.digest)) == layer.size; },
                                       std::chrono::seconds(60));
        INFO("the mirror's storage after the second pull:\n" << listing(mirror->storage_root()));
        REQUIRE(stored);
        check_no_partial_blob(*mirror, layer);
        // Its successful fetches commit their upload sessions (moved into blobs/); the dead
        // fetch's session is still the one left.
        CHECK(upload_data_files(*mirror).size() == uploads_after_kill);

        // Nothing lost: with the upstream gone again, the mirror serves the image from what
        // it kept, and it verifies.
        upstream->stop();
        const fs::path from_cache = workspace.path() / "from-cache.oci";
        CHECK(wbclient::pull_to_layout(through_mirror,
                                       wbclient::Reference::parse(mirror->host_port() + "/" +
                                                                  repository + ":latest"),
                                       from_cache) == image.manifest_blob.digest);
        CHECK(wbclient::verify_oci_layout(from_cache) == 3);
    }
}
