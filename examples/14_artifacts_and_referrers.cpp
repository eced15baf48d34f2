// Chapter 14: artifacts that refer to an image (an SBOM, a signature, a signature of the SBOM),
// discovered the way OCI 1.1 tells a client to: the referrers API first and, where the
// registry has none (2.8.2), the referrers tag schema. Then two clients updating that tag at
// once, and what deleting the image leaves behind.
//
// Usage: 14_artifacts_and_referrers [registry [repository]]
//          e.g. 14_artifacts_and_referrers localhost:5000 referrers-demo/app
//        14_artifacts_and_referrers --subject <digest> [registry [repository]]
//          attaches one SBOM to that manifest of the repository and lists its referrers
//        14_artifacts_and_referrers --referrers <tag> [registry [repository]]
//          lists what a referrers tag (sha256-<hex>) holds
#include "program_options.hpp"
#include "wbclient/distribution/registry_client.hpp"
#include "wbclient/http/url.hpp"
#include "wbclient/image/image_builder.hpp"
#include "wbclient/transfer/artifact_push.hpp"
#include "wbclient/transfer/image_transfer.hpp"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>

namespace fs = std::filesystem;
using namespace wbclient;

namespace {

constexpr std::string_view sbom_type = "application/spdx+json";
constexpr std::string_view signature_type = "application/vnd.example.signature.v1+json";
constexpr std::string_view attestation_type = "application/vnd.example.attestation.v1+json";

// The layer file is written here and removed at exit: once pushed, the registry has its copy.
struct ScratchFolder {
    fs::path path = fs::temp_directory_path() / ("referrers-demo-" + std::to_string(::getpid()));
    ScratchFolder() { fs::create_directories(path); }
    ~ScratchFolder() {
        std::error_code ignored;
        fs::remove_all(path, ignored);
    }
};

// An SBOM-like document (SPDX's shape, much shortened) about the image `subject`.
std::string sbom_of(const Descriptor& subject, const std::string& repository) {
    const nlohmann::json sbom = {
        {"spdxVersion", "SPDX-2.3"},
        {"name", repository + "@" + subject.digest.str()},
        {"packages", {{{"name", "hello.txt"}, {"versionInfo", "1.0"}, {"licenseConcluded", "CC0-1.0"}}}}};
    return sbom.dump(2) + "\n";
}

// A signature-like payload in the shape of cosign's "simple signing": it names the manifest it
// vouches for by digest, so a reader can check it against the subject. (Not a real signature.)
std::string signature_of(const Descriptor& subject, const std::string& who) {
    const nlohmann::json payload = {{"critical", {{"image", {{"docker-manifest-digest", subject.digest.str()}}},
                                                  {"type", "workbook signature"}}},
                                    {"optional", {{"signed-by", who}}}};
    return payload.dump() + "\n";
}

Artifact signature_artifact(const Descriptor& subject, const std::string& who) {
    return Artifact{.artifact_type = std::string(signature_type),
                    .subject = subject,
                    .blobs = {{.media_type = std::string(signature_type), .bytes = signature_of(subject, who)}},
                    .annotations = {{"org.opencontainers.image.description", "signed by " + who}}};
}

// An attestation-like statement (in-toto's shape, much shortened): `predicate` about `subject`.
Artifact attestation_artifact(const Descriptor& subject, const std::string& predicate) {
    const nlohmann::json statement = {{"subject", {{{"digest", {{"sha256", std::string(subject.digest.hex())}}}}}},
                                      {"predicateType", predicate}};
    return Artifact{.artifact_type = std::string(attestation_type),
                    .subject = subject,
                    .blobs = {{.media_type = std::string(attestation_type), .bytes = statement.dump() + "\n"}}};
}

// How the pusher's side of the referrers tag went, in one line.
std::string tag_update(const PushedArtifact& pushed) {
    if (pushed.oci_subject) return "the registry keeps the referrers (OCI-Subject: " + *pushed.oci_subject + ")";
    const ReferrerAdded& added = *pushed.referrers_tag;
    return "no OCI-Subject in the answer: added to the referrers tag, which now holds " + added.tag_digest->str();
}

// A run before this one left the race's two referrers in the tag; take them out again, so that
// the race starts from the same two referrers on every run.
void forget_race(RegistryClient& client, const std::string& repository, const Digest& subject,
                 const std::vector<Digest>& racers) {
    ReferrersTagState state = read_referrers_tag(client, repository, subject);
    const auto before = state.referrers.size();
    std::erase_if(state.referrers, [&](const Descriptor& d) { return std::find(racers.begin(), racers.end(), d.digest) != racers.end(); });
    if (state.referrers.size() == before) return;
    write_referrers_tag(client, repository, subject, state.referrers);
    std::cout << "(An earlier run left the race's referrers in the tag: written back without them.)\n";
}

void print_referrers(const std::vector<Descriptor>& referrers) {
    for (const Descriptor& referrer : referrers)
        std::cout << "  " << referrer.digest.str() << "  " << referrer.artifact_type << ", " << referrer.size
                  << " bytes\n";
}

void print_tag(const ReferrersTagState& state, std::string_view repository) {
    std::cout << repository << ":" << state.tag << " -> "
              << (state.digest ? state.digest->str() : std::string("no such tag (404): no referrers yet")) << ", "
              << state.referrers.size() << " referrer" << (state.referrers.size() == 1 ? "" : "s") << "\n";
    print_referrers(state.referrers);
}

// The repository's tags, on one line, printed once the request is done (with WORKBOOK_VERBOSE the
// exchange is printed as it happens, and must not land in the middle of our line).
void print_tags(RegistryClient& client, const std::string& repository) {
    std::string line = "GET " + repository + " tags/list:";
    for (const std::string& name : list_tags(client, repository)) line += " " + name;
    std::cout << line << "\n";
}

// The options: at most one of --subject <digest> / --referrers <tag>, then [registry [repository]].
struct Options {
    std::string mode;  // "", "--subject" or "--referrers"
    std::string value;
    std::vector<std::string> positional;
};

Options parse_options(int argc, char* argv[]) {
    Options options;
    int i = 1;
    if (i < argc && (std::string(argv[i]) == "--subject" || std::string(argv[i]) == "--referrers")) {
        if (i + 1 >= argc) throw std::invalid_argument(std::string(argv[i]) + " needs a value");
        options.mode = argv[i];
        options.value = argv[i + 1];
        i += 2;
    }
    for (; i < argc; ++i) options.positional.emplace_back(argv[i]);
    if (options.positional.size() > 2 || (!options.positional.empty() && options.positional[0].starts_with("-")))
        throw std::invalid_argument("usage: 14_artifacts_and_referrers [--subject <digest> | --referrers <tag>] "
                                    "[registry [repository]]");
    return options;
}

}  // namespace

int main(int argc, char* argv[]) try {
    const Options options = parse_options(argc, argv);
    RegistryClient client(options.positional.size() > 0 ? options.positional[0] : workbook::default_registry(),
                          workbook::client_options());
    const std::string repository = options.positional.size() > 1 ? options.positional[1] : "referrers-demo/app";
    const std::string host = Url(client.base_url()).authority();

    if (options.mode == "--referrers") {
        // What a referrers tag holds; a tag for another algorithm, or none at all, is refused.
        const Digest subject = subject_of_referrers_tag(options.value);
        print_tag(read_referrers_tag(client, repository, subject), repository);
        return EXIT_SUCCESS;
    }
    if (options.mode == "--subject") {
        const Descriptor subject = subject_descriptor(client, repository, Digest::parse(options.value));
        const PushedArtifact sbom = push_artifact(
            client, repository,
            {.artifact_type = std::string(sbom_type), .subject = subject,
             .blobs = {{.media_type = std::string(sbom_type), .bytes = sbom_of(subject, repository)}}});
        std::cout << "Pushed an SBOM " << sbom.referrer.digest.str() << " about " << subject.digest.str() << ": "
                  << tag_update(sbom) << "\n";
        print_tag(read_referrers_tag(client, repository, subject.digest), repository);
        return EXIT_SUCCESS;
    }

    const ScratchFolder scratch;
    std::cout << "== An image to refer to\n";
    //! [subject_image]
    LayerBuilder layer;
    layer.add_file("hello.txt", "Hello from chapter 14.\n");
    const BuiltImage image = assemble_image({}, {{layer.write(scratch.path / "hello.tar.gz"), "ADD hello.txt /"}});
    push_image(client, Reference::parse(host + "/" + repository + ":1.0"), image);
    const Descriptor subject = image.manifest_blob;  // what every artifact below names
    //! [subject_image]
    std::cout << "Pushed " << repository << ":1.0 " << subject.digest.str() << " (" << subject.media_type << ", "
              << subject.size << " bytes)\n";

    std::cout << "\n== Two artifacts about the image: an SBOM and a signature\n";
    //! [push_sbom]
    const PushedArtifact sbom = push_artifact(
        client, repository,
        {.artifact_type = std::string(sbom_type), .subject = subject,
         .blobs = {{.media_type = std::string(sbom_type), .bytes = sbom_of(subject, repository)}}});
    //! [push_sbom]
    std::cout << "The SBOM's manifest, " << sbom.referrer.digest.str() << ":\n"
              << nlohmann::json::parse(sbom.manifest).dump(2) << "\n"
              << "PUT 201, " << tag_update(sbom) << "\n";
    const PushedArtifact signature = push_artifact(client, repository, signature_artifact(subject, "release team"));
    std::cout << "Pushed a signature " << signature.referrer.digest.str() << ": " << tag_update(signature) << "\n";

    std::cout << "\n== An artifact about an artifact: a signature of the SBOM\n";
    //! [sign_the_sbom]
    const Descriptor sbom_manifest = descriptor_of(media_type::oci_manifest, sbom.manifest);
    const PushedArtifact sbom_signature =
        push_artifact(client, repository, signature_artifact(sbom_manifest, "compliance team"));
    //! [sign_the_sbom]
    std::cout << "Pushed " << sbom_signature.referrer.digest.str() << " with subject " << sbom_manifest.digest.str()
              << ":\n  " << tag_update(sbom_signature) << " (the SBOM's own tag, "
              << referrers_tag(sbom_manifest.digest) << ")\n";

    std::cout << "\n== Who refers to the image? Ask the referrers API first\n";
    //! [ask_referrers_api]
    const ReferrersAnswer answer = get_referrers(client, repository, subject.digest);
    //! [ask_referrers_api]
    std::cout << "GET /v2/" << repository << "/referrers/" << subject.digest.str() << "\n  " << answer.status << " "
              << answer.reason << "\n";
    for (const auto& [name, value] : answer.headers.fields())
        if (name != "Date") std::cout << "  " << name << ": " << value << "\n";
    std::cout << "  body: " << nlohmann::json(answer.body).dump() << "\n";
    const ReferrersAnswer filtered = get_referrers(client, repository, subject.digest, signature_type);
    std::cout << "The same with ?artifactType=" << signature_type << ": " << filtered.status << " " << filtered.reason
              << "\n"
              << (answer.supported() ? "The registry has the referrers API.\n"
                                     : "A 404 here means: no referrers API. Fall back to the referrers tag schema.\n");

    std::cout << "\n== The fallback: the referrers tag\n";
    //! [read_fallback]
    const ReferrersTagState tag = read_referrers_tag(client, repository, subject.digest);
    //! [read_fallback]
    print_tag(tag, repository);
    print_tags(client, repository);

    std::cout << "\n== Referrers by artifactType, filtered here since the registry cannot\n";
    //! [by_artifact_type]
    const std::vector<Descriptor> signatures = referrers_of_type(tag.referrers, signature_type);
    //! [by_artifact_type]
    std::cout << signature_type << ":\n";
    print_referrers(signatures);
    std::cout << sbom_type << ":\n";
    print_referrers(referrers_of_type(tag.referrers, sbom_type));
    if (signatures.size() != 1) throw std::runtime_error("expected one signature of the image");

    std::cout << "\n== Fetch the signature and verify it against the subject\n";
    //! [verify_referrer]
    const FetchedManifest fetched = client.get_manifest(repository, signatures[0].digest.str());
    const auto& about = fetched.parsed.subject;
    if (!about || about->digest != subject.digest || about->size != subject.size ||
        about->media_type != subject.media_type || fetched.parsed.artifact_type != signature_type)
        throw std::runtime_error(signatures[0].digest.str() + " is not a signature of " + subject.digest.str());
    std::string payload;
    client.fetch_blob(repository, fetched.parsed.layers.at(0),
                      [&](const char* data, std::size_t size) { payload.append(data, size); });
    const auto signed_digest = nlohmann::json::parse(payload).at("critical").at("image").at("docker-manifest-digest");
    if (signed_digest != subject.digest.str())
        throw std::runtime_error("the signature's payload vouches for " + signed_digest.dump() + ", not the subject");
    //! [verify_referrer]
    std::cout << "Its subject is " << about->digest.str() << ", " << about->size << " bytes: the image.\n"
              << "Its payload (" << fetched.parsed.layers[0].size << " bytes, digest checked) names the same digest: "
              << payload;

    std::cout << "\n== The SBOM's referrers\n";
    print_tag(read_referrers_tag(client, repository, sbom_manifest.digest), repository);

    std::cout << "\n== Two clients add a referrer at the same moment\n";
    //! [race]
    // Two more artifacts, pushed without touching the tag; then two writers, interleaved.
    const Artifact scan = attestation_artifact(subject, "https://example.com/vulnerability-scan");
    const Artifact provenance = attestation_artifact(subject, "https://slsa.dev/provenance/v1");
    const Descriptor scan_referrer = push_artifact(client, repository, scan, false).referrer;
    const Descriptor provenance_referrer = push_artifact(client, repository, provenance, false).referrer;
    RegistryClient other = client.sibling();  // the second client, on its own connection
    //! [race]
    forget_race(client, repository, subject.digest, {scan_referrer.digest, provenance_referrer.digest});
    //! [race_writers]
    ReferrersTagState first = read_referrers_tag(client, repository, subject.digest);   // writer 1 reads
    ReferrersTagState second = read_referrers_tag(other, repository, subject.digest);   // writer 2 reads the same
    first.referrers.push_back(scan_referrer);
    second.referrers.push_back(provenance_referrer);
    const Digest written_first = write_referrers_tag(client, repository, subject.digest, first.referrers);
    const Digest written_second = write_referrers_tag(other, repository, subject.digest, second.referrers);
    // Writer 1 looks again: the tag no longer holds what it wrote. Its descriptor is lost.
    const std::optional<Digest> now = referrers_tag_digest(client, repository, subject.digest);
    //! [race_writers]
    std::cout << "Both read " << first.digest->str() << " (" << first.referrers.size() - 1 << " referrers)\n"
              << "Writer 1 wrote " << written_first.str() << " (+ " << scan_referrer.digest.str() << ")\n"
              << "Writer 2 wrote " << written_second.str() << " (+ " << provenance_referrer.digest.str() << ")\n";
    const ReferrersTagState after_race = read_referrers_tag(client, repository, subject.digest);
    print_tag(after_race, repository);
    std::cout << "Writer 1's descriptor is " << (names_referrer(after_race.referrers, scan_referrer.digest) ? "there" : "lost")
              << ". Writer 1 checks: the tag holds " << now->str() << ", not the "
              << written_first.str() << " it wrote: " << (now != written_first ? "noticed" : "nothing to notice") << ".\n";
    //! [race_detected]
    // The library's add_referrer does read, add, check, write, check, and starts over on a change.
    const ReferrerAdded retried = add_referrer(client, repository, subject.digest, scan_referrer);
    //! [race_detected]
    std::cout << "Writer 1 starts over with add_referrer: " << retried.attempts << " attempt"
              << (retried.attempts == 1 ? "" : "s") << ", the tag now holds " << retried.tag_digest->str() << "\n";
    const ReferrersTagState repaired = read_referrers_tag(client, repository, subject.digest);
    print_tag(repaired, repository);
    if (!names_referrer(repaired.referrers, scan_referrer.digest) ||
        !names_referrer(repaired.referrers, provenance_referrer.digest))
        throw std::runtime_error("the referrers tag lost a descriptor after the retry");

    std::cout << "\n== Delete the image\n";
    //! [delete_subject]
    delete_manifest(client, repository, subject.digest);
    //! [delete_subject]
    std::cout << "DELETE " << repository << "@" << subject.digest.str() << ": 202 Accepted\n";
    for (const std::string& reference : {subject.digest.str(), tag.tag, signature.referrer.digest.str(),
                                         sbom.referrer.digest.str()}) {
        Request get{.url = client.url(repository, "manifests/" + reference)};
        get.headers.add("Accept", accept_all_manifests());
        const Response got = client.http().perform(get);
        std::cout << "GET " << repository << " manifest " << reference << ": " << got.status << " " << got.reason << "\n";
    }
    const ReferrersTagState orphaned = read_referrers_tag(client, repository, subject.digest);
    std::cout << "The referrers tag still names " << orphaned.referrers.size()
              << " referrers of a manifest the repository no longer has.\n";
    print_tags(client, repository);
    std::cout << "Registry 2.8.2 never read a subject: nothing ties these artifacts to the deleted image. "
                 "A garbage collection (docker-registry garbage-collect) decides what happens to their bytes.\n";
    return EXIT_SUCCESS;
} catch (const std::exception& error) {
    std::cerr << "14_artifacts_and_referrers: " << error.what() << "\n";
    return EXIT_FAILURE;
}
