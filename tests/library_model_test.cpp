// The model layer on its own: digests, references, manifests (wbclient/model/).
#include "wbclient/model/artifact.hpp"
#include "wbclient/model/digest.hpp"
#include "wbclient/model/manifest.hpp"
#include "wbclient/model/reference.hpp"

#include <catch2/catch.hpp>

using namespace wbclient;

TEST_CASE("digests: SHA-256 of known bytes, and strict parsing", "[library][model]") {
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

TEST_CASE("references: docker's grammar and the workbook's defaults", "[library][model]") {
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

TEST_CASE("manifests: all four types parse, and malformed ones are refused with a reason", "[library][model]") {
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


TEST_CASE("artifacts: the empty config, artifactType and subject, the referrers tag and its index", "[library][model]") {
    const Descriptor empty = empty_config_descriptor();
    CHECK(empty.media_type == "application/vnd.oci.empty.v1+json");
    CHECK(empty.digest.str() == "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a");
    CHECK(empty.size == 2);

    const Descriptor subject = descriptor_of(media_type::oci_manifest, "an image's manifest");
    const ArtifactSpec spec{.artifact_type = "application/spdx+json",
                            .subject = subject,
                            .blobs = {descriptor_of("application/spdx+json", "{}\n")},
                            .annotations = {{"org.example", "yes"}}};
    const std::string bytes = artifact_manifest(spec);
    CHECK(artifact_manifest(spec) == bytes);  // the same spec, the same bytes
    const Manifest parsed = Manifest::parse(bytes, "");
    CHECK(parsed.media_type == media_type::oci_manifest);
    CHECK(parsed.artifact_type == "application/spdx+json");
    REQUIRE(parsed.subject);
    CHECK(parsed.subject->digest == subject.digest);
    CHECK(parsed.config->digest == empty.digest);
    CHECK_THROWS_AS(artifact_manifest({.subject = subject, .blobs = spec.blobs}), std::invalid_argument);

    // The index names it with artifactType and annotations, which survive a round trip.
    const Descriptor referrer = referrer_descriptor(descriptor_of(media_type::oci_manifest, bytes), spec);
    const Manifest index = Manifest::parse(referrers_index({referrer}), "");
    REQUIRE(index.manifests.size() == 1);
    CHECK(index.manifests[0].artifact_type == "application/spdx+json");
    CHECK(index.manifests[0].annotations.at("org.example") == "yes");
    CHECK(referrers_of_type(index.manifests, "application/spdx+json").size() == 1);
    CHECK(referrers_of_type(index.manifests, "other").empty());
    CHECK(names_referrer(index.manifests, referrer.digest));
    CHECK_THROWS_WITH(Manifest::parse(R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json",)"
                                      R"("manifests":[],"artifactType":7})", ""),
                      Catch::Contains("artifactType is not a string"));

    CHECK(referrers_tag(subject.digest) == "sha256-" + std::string(subject.digest.hex()));
    CHECK(subject_of_referrers_tag(referrers_tag(subject.digest)) == subject.digest);
    CHECK_THROWS_AS(subject_of_referrers_tag("sha512-" + std::string(128, 'a')), InvalidReferrersTag);
    CHECK_THROWS_WITH(subject_of_referrers_tag("sha512-abc"), Catch::Contains("is for sha512 digests"));
    CHECK_THROWS_WITH(subject_of_referrers_tag("latest"), Catch::Contains("is no referrers tag"));
    CHECK_THROWS_WITH(subject_of_referrers_tag("sha256-ABC"), Catch::Contains("64 lower-case hex"));
    CHECK_THROWS_AS(subject_of_referrers_tag("-abc"), InvalidReferrersTag);
}
