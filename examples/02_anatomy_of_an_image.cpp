// Chapter 02: take an image apart (manifest, config, layer), Docker schema2 or OCI, an image or
// an index of them, check each digest against the bytes, and watch the registry negotiate which
// kind of manifest it serves.
//
// Usage: 02_anatomy_of_an_image [image]
//   e.g. 02_anatomy_of_an_image localhost:5000/my-busybox:latest   (default: on $WORKBOOK_REGISTRY)
//   Reads the image and writes nothing into its repository. To show content negotiation it pushes
//   three tags (schema2, oci, list) into a scratch repository of its own on the same registry,
//   02-anatomy-scratch/<repository>, mounting the image's blobs there.
#include "program_options.hpp"
#include "wbclient/distribution/registry_client.hpp"
#include "wbclient/distribution/uploads.hpp"
#include "wbclient/image/image_builder.hpp"
#include "wbclient/image/layer_reader.hpp"
#include "wbclient/model/platform.hpp"
#include "wbclient/model/reference.hpp"

#include <cstdio>
#include <cstdlib>
#include <iostream>

using nlohmann::json;
using wbclient::Digest;
using wbclient::Response;
namespace media_type = wbclient::media_type;

namespace {

// One request with the headers this chapter varies; any other status than `expected` is an error.
Response send(wbclient::RegistryClient& client, std::string method, std::string url,
              const std::vector<std::pair<std::string, std::string>>& headers, long expected) {
    wbclient::Request request{.method = std::move(method), .url = std::move(url)};
    for (const auto& [name, value] : headers) request.headers.add(name, value);
    Response response = client.http().perform(request);
    if (response.status != expected) throw wbclient::RegistryError(request, response);
    return response;
}

std::string header(const Response& response, std::string_view name) {
    return response.headers.get(name).value_or("(none)");
}

std::string summary(const Response& response) {
    return std::to_string(response.status) + " " + response.reason + ", " +
           header(response, "Content-Type") + ", " + std::to_string(response.body.size()) + " bytes";
}

// A blob small enough to hold in memory, checked against its digest as it arrives.
std::string fetch_small_blob(wbclient::RegistryClient& client, const std::string& repository,
                             const wbclient::Descriptor& blob, std::uint64_t limit) {
    if (blob.size > limit)
        throw std::runtime_error("blob " + blob.digest.str() + " is " + std::to_string(blob.size) +
                                 " bytes; this program holds at most " + std::to_string(limit));
    std::string bytes;
    client.fetch_blob(repository, blob, [&](const char* data, std::size_t n) { bytes.append(data, n); });
    return bytes;
}

// The same image written down the other way: every media type of `manifest` (the manifest's,
// the config's, the gzipped layers') turned into OCI's or Docker schema2's. The blobs stay.
json with_media_types(json manifest, bool oci) {
    const auto types = wbclient::media_types_of(oci ? wbclient::ImageFormat::oci : wbclient::ImageFormat::docker_schema2);
    manifest["mediaType"] = types.manifest;
    manifest["config"]["mediaType"] = types.config;
    for (auto& each : manifest["layers"]) each["mediaType"] = types.layer;
    return manifest;
}

bool is_gzip_layer(std::string_view type) {
    return type == media_type::oci_layer_gzip || type == media_type::docker_layer_gzip;
}

}  // namespace

int main(int argc, char* argv[]) try {
    if (argc > 2) {
        std::cerr << "usage: " << argv[0] << " [image]   e.g. localhost:5000/my-busybox:latest\n"
                     "  (reads the image; pushes only into the scratch repository 02-anatomy-scratch/<repository>)\n";
        return EXIT_FAILURE;
    }
    const auto image = wbclient::Reference::parse(
        argc == 2 ? argv[1] : workbook::default_registry() + "/my-busybox:latest");
    // The schema1 rewrite below happens only to manifests fetched by tag.
    if (image.digest) throw std::invalid_argument("name the image by tag, not by digest: " + image.str());
    wbclient::RegistryClient client(image.registry, workbook::client_options());
    const auto manifest_url = [&](std::string_view reference) {
        return client.url(image.repository, "manifests/" + std::string(reference));
    };
    const std::string all_types = wbclient::accept_all_manifests();

    //! [manifest_digest]
    // A manifest's digest is the SHA-256 of the exact bytes served: hash them and compare.
    const Response got = send(client, "GET", manifest_url(image.tag), {{"Accept", all_types}}, 200);
    const Digest computed = wbclient::digest_of(got.body);
    const std::string claimed = header(got, "Docker-Content-Digest");
    if (claimed != computed.str())
        throw std::runtime_error("manifest bytes hash to " + computed.str() + ", not " + claimed);
    const auto tagged = wbclient::Manifest::parse(got.body, header(got, "Content-Type"));
    //! [manifest_digest]
    //! [index_child]
    // An index (OCI) or manifest list (Docker) names one image per platform: take this
    // machine's, fetched by digest and checked the same way.
    Response image_got = got;
    wbclient::Manifest manifest = tagged;
    wbclient::Platform chosen;
    if (tagged.is_index()) {
        const wbclient::Descriptor& child = wbclient::select_manifest(
            tagged, {.os = "linux", .architecture = std::string(wbclient::host_architecture())});
        chosen = *child.platform;
        image_got = send(client, "GET", manifest_url(child.digest.str()), {{"Accept", all_types}}, 200);
        if (wbclient::digest_of(image_got.body) != child.digest)
            throw std::runtime_error("manifest " + child.digest.str() + " does not hash to its digest");
        manifest = wbclient::Manifest::parse(image_got.body, header(image_got, "Content-Type"));
        if (manifest.is_index()) throw std::runtime_error("index " + child.digest.str() + " names another index");
    }
    //! [index_child]
    // Both formats describe the same thing; anything else (a Helm chart, a signature) is not an image.
    if (manifest.config->media_type != media_type::oci_config && manifest.config->media_type != media_type::docker_config)
        throw std::runtime_error(image.str() + " has a config of type " + manifest.config->media_type +
                                 ": not a container image");
    if (manifest.layers.empty() || !is_gzip_layer(manifest.layers.at(0).media_type))
        throw std::runtime_error(image.str() + "'s first layer is " +
                                 (manifest.layers.empty() ? std::string("missing") : manifest.layers.at(0).media_type) +
                                 "; this chapter reads gzipped tar layers");
    std::cout << "== The manifest of " << image.str() << "\nGET: " << summary(got) << ", exactly:\n"
              << got.body << (got.body.ends_with('\n') ? "" : "\n") << "Docker-Content-Digest: "
              << claimed << "\nsha256 of those bytes: " << computed.str() << " (the same)\n";
    if (tagged.is_index())
        std::cout << "An index of " << tagged.manifests.size() << " images; this machine's ("
                  << wbclient::platform_string(chosen)
                  << "), by digest:\nGET: " << summary(image_got) << ", exactly:\n" << image_got.body
                  << (image_got.body.ends_with('\n') ? "" : "\n");

    //! [head_and_etag]
    // HEAD: the headers of a GET, no body. If-None-Match with the Etag: 304 while unchanged.
    const Response head = send(client, "HEAD", manifest_url(image.tag), {{"Accept", all_types}}, 200);
    const Response unchanged = send(client, "GET", manifest_url(image.tag),
                                    {{"Accept", all_types}, {"If-None-Match", header(got, "Etag")}}, 304);
    //! [head_and_etag]
    std::cout << "HEAD: " << summary(head) << ", Content-Length " << header(head, "Content-Length")
              << ", Docker-Content-Digest " << header(head, "Docker-Content-Digest") << "\n"
              << "GET with If-None-Match: " << header(got, "Etag") << ": " << unchanged.status << " "
              << unchanged.reason << ", " << unchanged.body.size() << " bytes\n";

    //! [config]
    // The config is a blob like any other; fetch_blob refuses bytes that miss the digest.
    const std::string config_bytes = fetch_small_blob(client, image.repository, *manifest.config, 1 << 20);
    const json config = json::parse(config_bytes);
    //! [config]
    std::cout << "\n== The config, blob " << manifest.config->digest.str() << " (" << config_bytes.size()
              << " bytes, sha256 checked), pretty-printed:\n" << config.dump(3) << "\n";

    //! [blob_head_range]
    // HEAD a blob for its size; GET with Range for a piece of it (gzip's two magic bytes).
    const wbclient::Descriptor& layer = manifest.layers.at(0);
    const std::string layer_url = client.url(image.repository, "blobs/" + layer.digest.str());
    const Response blob_head = send(client, "HEAD", layer_url, {}, 200);
    const Response piece = send(client, "GET", layer_url, {{"Range", "bytes=0-1"}}, 206);
    //! [blob_head_range]
    std::string magic;
    for (const unsigned char byte : piece.body) {
        char hex[4];
        std::snprintf(hex, sizeof hex, " %02x", byte);
        magic += hex;
    }
    std::cout << "\n== The layer, blob " << layer.digest.str() << "\nHEAD: " << summary(blob_head)
              << ", Content-Length " << header(blob_head, "Content-Length") << ", Accept-Ranges "
              << header(blob_head, "Accept-Ranges") << "\nGET with Range: bytes=0-1: " << summary(piece)
              << ", Content-Range " << header(piece, "Content-Range") << ":" << magic << "\n";

    //! [layer_listing]
    // The whole layer, digest-checked, then the tar inside listed as it is decompressed.
    const std::string gzipped = fetch_small_blob(client, image.repository, layer, 256 << 20);
    const wbclient::LayerListing listing = wbclient::list_layer(gzipped);
    const std::string diff_id = config.at("rootfs").at("diff_ids").at(0);
    //! [layer_listing]
    std::cout << "GET: " << gzipped.size() << " bytes of gzip (sha256 checked), " << listing.uncompressed_size
              << " bytes of tar, " << listing.entries.size() << " entries:\n";
    for (const auto& entry : listing.entries) std::cout << "  " << wbclient::describe(entry) << "\n";
    std::cout << "sha256 of the tar:   " << listing.diff_id.str() << "\nthe config's diff_id: " << diff_id
              << (listing.diff_id.str() == diff_id ? " (the same)" : " (DIFFERENT)") << "\n";

    //! [scratch_repository]
    // The negotiation needs several kinds of manifest under tags; the image's own repository
    // is not ours to write into, so they go to a scratch repository, the blobs mounted there.
    const std::string scratch = "02-anatomy-scratch/" + image.repository;
    for (const wbclient::Descriptor& blob : manifest.references()) {
        const wbclient::MountResult mount = wbclient::request_mount(client, scratch, blob.digest, image.repository);
        if (!mount.mounted) {
            wbclient::cancel_upload(client, mount.upload_location);
            throw std::runtime_error("the registry would not mount " + blob.digest.str() + " into " + scratch);
        }
    }
    //! [scratch_repository]
    std::cout << "\n== Content negotiation, in the scratch repository " << scratch << "\nMounted "
              << manifest.references().size() << " blobs from " << image.repository << " (no bytes sent)\n";
    const auto scratch_url = [&](std::string_view reference) {
        return client.url(scratch, "manifests/" + std::string(reference));
    };

    //! [push_variants]
    // Three manifests over the same blobs, for the registry to choose between: the image with
    // Docker schema2 types (tag "schema2"), with OCI types (tag "oci"), and a list naming the
    // first for its platform (tag "list").
    const json as_pushed = json::parse(image_got.body);
    const std::string schema2_bytes = with_media_types(as_pushed, false).dump(3);
    const Digest schema2_digest =
        client.put_manifest(scratch, "schema2", media_type::docker_manifest, schema2_bytes);
    const Digest oci_digest =
        client.put_manifest(scratch, "oci", media_type::oci_manifest, with_media_types(as_pushed, true).dump(3));
    const wbclient::Platform platform{.os = config.value("os", ""),
                                       .architecture = config.value("architecture", "")};
    const json list = {{"schemaVersion", 2},
                       {"mediaType", media_type::docker_manifest_list},
                       {"manifests", {wbclient::descriptor_to_json({.media_type = std::string(media_type::docker_manifest),
                                                                     .digest = schema2_digest,
                                                                     .size = schema2_bytes.size(),
                                                                     .platform = platform})}}};
    const Digest list_digest =
        client.put_manifest(scratch, "list", media_type::docker_manifest_list, list.dump(3));
    //! [push_variants]
    std::cout << "Pushed the image with Docker schema2 types as :schema2 (" << schema2_digest.str()
              << ")\nPushed it with OCI types as :oci (" << oci_digest.str()
              << ")\nPushed a manifest list naming :schema2 for " << platform.os << "/" << platform.architecture
              << " as :list (" << list_digest.str() << ")\n";

    //! [oci_accept]
    // An OCI manifest is served only when Accept names its type; "*/*" is not enough.
    const Response refused = send(client, "GET", scratch_url("oci"), {{"Accept", "*/*"}}, 404);
    const Response oci_got =
        send(client, "GET", scratch_url("oci"), {{"Accept", std::string(media_type::oci_manifest)}}, 200);
    //! [oci_accept]
    std::cout << "GET :oci, Accept: */*: " << summary(refused) << "\n  "
              << refused.body.substr(0, refused.body.find_last_not_of('\n') + 1) << "\nGET :oci, Accept: "
              << media_type::oci_manifest << ": " << summary(oci_got) << "\n  Docker-Content-Digest: "
              << header(oci_got, "Docker-Content-Digest") << "\n";

    //! [schema1]
    // Fetched by tag without the schema2 type in Accept, a schema2 manifest is rewritten into
    // the old, signed schema1: other bytes, so another digest.
    const Response old = send(client, "GET", scratch_url("schema2"), {{"Accept", "*/*"}}, 200);
    const json schema1 = json::parse(old.body);
    //! [schema1]
    std::cout << "GET :schema2, Accept: */*: " << summary(old) << "\n  Docker-Content-Digest: "
              << header(old, "Docker-Content-Digest") << " (schema2: " << schema2_digest.str() << ")\n"
              << "  sha256 of the bytes:   " << wbclient::digest_of(old.body).str() << "\n  schemaVersion "
              << schema1.value("schemaVersion", 0) << ", fsLayers "
              << schema1.value("fsLayers", json::array()).size() << ", history "
              << schema1.value("history", json::array()).size() << ", signatures "
              << schema1.value("signatures", json::array()).size() << "\n";

    //! [list_selection]
    // A client that names only schema2 gets the list's linux/amd64 image instead of the list.
    const Response child =
        send(client, "GET", scratch_url("list"), {{"Accept", std::string(media_type::docker_manifest)}}, 200);
    const Response whole = send(client, "GET", scratch_url("list"), {{"Accept", all_types}}, 200);
    //! [list_selection]
    std::cout << "GET :list, Accept: " << media_type::docker_manifest << ": " << summary(child)
              << "\n  Docker-Content-Digest: " << header(child, "Docker-Content-Digest")
              << "\nGET :list, Accept: all four types: " << summary(whole)
              << "\n  Docker-Content-Digest: " << header(whole, "Docker-Content-Digest") << "\n";
    return EXIT_SUCCESS;
} catch (const std::exception& error) {
    std::cerr << "02_anatomy_of_an_image: " << error.what() << "\n";
    return EXIT_FAILURE;
}
