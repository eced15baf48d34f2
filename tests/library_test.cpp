// The shared library's pieces on their own: digests, references, manifests, layers, layouts.
#include "wbclient/model/digest.hpp"
#include "wbclient/image/layer_builder.hpp"
#include "wbclient/image/layer_extractor.hpp"
#include "wbclient/model/manifest.hpp"
#include "wbclient/image/oci_layout.hpp"
#include "wbclient/model/reference.hpp"
#include "workbook_paths.hpp"
#include "workspace.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <catch2/catch.hpp>

#include <fstream>

using namespace wbclient;
namespace fs = std::filesystem;

TEST_CASE("digests: SHA-256 of known bytes, and strict parsing", "[library]") {
    CHECK(digest_of("").str() ==
          "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    Sha256 streamed;
    streamed.update("ab");
    streamed.update("c");
    CHECK(streamed.finish().str() ==
          "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK_THROWS_WITH(Digest::parse("md5:abc"), Catch::Contains("unsupported digest algorithm 'md5'"));
    CHECK_THROWS_WITH(Digest::parse("sha256:ABC"), Catch::Contains("64 lower-case hex"));
    CHECK_THROWS_WITH(Digest::parse("nocolon"), Catch::Contains("expected sha256:"));
    CHECK_THROWS(Digest::parse("sha256:" + std::string(63, 'a')));
    CHECK_THROWS(Digest::parse("sha256:" + std::string(63, 'a') + "g"));
}

TEST_CASE("references: docker's grammar and the workbook's defaults", "[library]") {
    struct Case {
        std::string text, registry, repository, tag, digest;
    };
    const std::string d = "sha256:" + std::string(64, 'a');
    const std::vector<Case> cases = {
        {"my-busybox", "localhost:5000", "my-busybox", "latest", ""},
        {"localhost:5001/library/busybox:1.36", "localhost:5001", "library/busybox", "1.36", ""},
        {"localhost/a/b/c", "localhost", "a/b/c", "latest", ""},
        {"127.0.0.1:5000/x@" + d, "127.0.0.1:5000", "x", "", d},
        {"example.com/x:tag@" + d, "example.com", "x", "tag", d},
        {"docker.io/busybox", "docker.io", "library/busybox", "latest", ""},
        {"a_b.c__d-e---f", "localhost:5000", "a_b.c__d-e---f", "latest", ""},
    };
    for (const auto& c : cases) {
        INFO(c.text);
        const Reference ref = Reference::parse(c.text);
        CHECK(ref.registry == c.registry);
        CHECK(ref.repository == c.repository);
        CHECK(ref.tag == c.tag);
        CHECK((ref.digest ? ref.digest->str() : "") == c.digest);
    }
    CHECK(Reference::parse("localhost:5001/library/busybox:1.36").str() ==
          "localhost:5001/library/busybox:1.36");

    const std::vector<std::pair<std::string, std::string>> bad = {
        {"", "it is empty"},
        {"Upper", "name component 'Upper'"},
        {"a..b", "name component 'a..b'"},
        {"has space", "name component 'has space'"},
        {"x:" + std::string(129, 't'), "tag"},
        {"x@sha512:" + std::string(128, 'a'), "unsupported digest algorithm 'sha512'"},
        {"x@sha256:abc", "invalid digest"},
        {"localhost:0/x", "port '0'"},
        {"localhost:70000/x", "port '70000'"},
        {"localhost:port/x", "port 'port'"},
        {"http://localhost:5000/x", "a reference has no scheme"},
        {"localhost:5000/" + std::string(300, 'a'), "longer than 255"},
        {"localhost:5000/", "repository name is empty"},
    };
    for (const auto& [text, why] : bad) {
        INFO(text);
        CHECK_THROWS_WITH(Reference::parse(text), Catch::Contains(why));
    }
}

TEST_CASE("manifests: all four types parse, and malformed ones are refused with a reason", "[library]") {
    const std::string d = "sha256:" + std::string(64, 'b');
    const std::string image = R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
        "config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":")" + d + R"(","size":7},
        "layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":")" + d + R"(","size":9}]})";
    const Manifest parsed = Manifest::parse(image, "application/vnd.oci.image.manifest.v1+json");
    CHECK_FALSE(parsed.is_index());
    CHECK(parsed.references().size() == 2);
    CHECK(parsed.layers.at(0).size == 9);

    const std::string list = R"({"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json",
        "manifests":[{"mediaType":"application/vnd.docker.distribution.manifest.v2+json","digest":")" + d +
                             R"(","size":3,"platform":{"os":"linux","architecture":"arm64","variant":"v8"}}]})";
    const Manifest index = Manifest::parse(list, "");
    CHECK(index.is_index());
    CHECK(index.manifests.at(0).platform->architecture == "arm64");

    CHECK_THROWS_WITH(Manifest::parse("{not json", ""), Catch::Contains("not JSON"));
    CHECK_THROWS_WITH(Manifest::parse(image, "application/vnd.oci.image.index.v1+json"),
                      Catch::Contains("contradicts Content-Type"));
    CHECK_THROWS_WITH(Manifest::parse(R"({"schemaVersion":1})", ""), Catch::Contains("schemaVersion"));
    CHECK_THROWS_WITH(
        Manifest::parse(R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","layers":[]})", ""),
        Catch::Contains("no config"));
    CHECK_THROWS_WITH(
        Manifest::parse(R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json",
                            "manifests":[{"mediaType":"x","digest":"sha256:1","size":1}]})", ""),
        Catch::Contains("invalid digest"));
    CHECK_THROWS_WITH(
        Manifest::parse(R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json",
                            "manifests":[{"mediaType":"x","digest":")" + d + R"(","size":-1}]})", ""),
        Catch::Contains("negative"));
}

namespace {

std::vector<std::string> list_entries(const fs::path& layer) {
    std::unique_ptr<archive, decltype(&archive_read_free)> reader(archive_read_new(), archive_read_free);
    archive_read_support_filter_gzip(reader.get());
    archive_read_support_format_tar(reader.get());
    REQUIRE(archive_read_open_filename(reader.get(), layer.c_str(), 1 << 16) == ARCHIVE_OK);
    std::vector<std::string> names;
    archive_entry* entry = nullptr;
    while (archive_read_next_header(reader.get(), &entry) == ARCHIVE_OK) {
        CHECK(archive_entry_mtime(entry) == 0);
        CHECK(archive_entry_uid(entry) == 0);
        names.emplace_back(archive_entry_pathname(entry));
    }
    return names;
}

}  // namespace

TEST_CASE("layers: deterministic tar+gzip with both digests computed in one pass", "[library]") {
    harness::Workspace workspace("library-layers");
    const auto build = [&](const fs::path& output) {
        LayerBuilder layer;
        layer.add_file("etc/motd", "hello\n");
        layer.add_directory("etc");
        layer.add_symlink("bin/sh", "busybox");
        return layer.write(output);
    };
    const BuiltLayer first = build(workspace.path() / "one.tar.gz");
    const BuiltLayer second = build(workspace.path() / "two.tar.gz");
    CHECK(first.blob.digest == second.blob.digest);
    CHECK(first.diff_id == second.diff_id);
    CHECK(first.blob.digest == digest_of_file(first.file));
    CHECK(first.blob.size == fs::file_size(first.file));
    CHECK(first.diff_id != first.blob.digest);
    CHECK(list_entries(first.file) == std::vector<std::string>{"bin/sh", "etc/", "etc/motd"});

    LayerBuilder escaping;
    CHECK_THROWS_WITH(escaping.add_file("../etc/passwd", "x"), Catch::Contains("stay inside the layer"));
}

TEST_CASE("layouts: nothing appears unless every blob verified", "[library]") {
    harness::Workspace workspace("library-layout");
    const std::string config = "{}";
    const Descriptor config_blob{.media_type = std::string(media_type::oci_config),
                                 .digest = digest_of(config), .size = config.size()};
    const std::string manifest =
        R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":)" +
        descriptor_to_json(config_blob).dump() + R"(,"layers":[]})";
    const Descriptor manifest_blob{.media_type = std::string(media_type::oci_manifest),
                                   .digest = digest_of(manifest), .size = manifest.size()};

    const fs::path good = workspace.path() / "good.oci";
    {
        OciLayoutWriter writer(good);
        writer.add_blob(config_blob, config);
        writer.add_blob(manifest_blob, manifest);
        writer.commit(manifest_blob, "v1");
    }
    CHECK(verify_oci_layout(good) == 2);
    CHECK_THROWS_WITH(OciLayoutWriter(good), Catch::Contains("already exists"));

    const fs::path bad = workspace.path() / "bad.oci";
    {
        OciLayoutWriter writer(bad);
        CHECK_THROWS_WITH(writer.add_blob(config_blob, std::string("{ }")), Catch::Contains("did not verify"));
    }
    CHECK_FALSE(fs::exists(bad));
    for (const auto& entry : fs::directory_iterator(workspace.path()))
        CHECK(entry.path().filename().string().find("partial") == std::string::npos);

    // A corrupted blob on disk is caught by verification.
    std::ofstream(good / "blobs" / "sha256" / std::string(config_blob.digest.hex())) << "{ }";
    CHECK_THROWS_WITH(verify_oci_layout(good), Catch::Contains("is corrupt"));
}

TEST_CASE("extraction: links that only escape together are refused (fuzzer finding)", "[library]") {
    // p -> . and q -> p/.. each look inside the layer as text; together q is the parent folder.
    harness::Workspace workspace("library-symlink-escape");
    const fs::path reproducer =
        fs::path(harness::paths::source_dir) / "fuzz" / "known" / "extractor_symlink_escape.tar";
    REQUIRE(fs::exists(reproducer));
    const fs::path target = workspace.path() / "root";
    CHECK_THROWS_WITH(extract_layer(reproducer, target), Catch::Contains("resolves outside the layer"));
    CHECK_THROWS_AS(extract_layer(reproducer, target), LayerEntryRefused);
    CHECK_FALSE(fs::exists(target));
    for (const auto& entry : fs::directory_iterator(workspace.path()))
        CHECK(entry.path().filename().string().find("partial") == std::string::npos);
}
