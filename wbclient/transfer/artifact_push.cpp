#include "wbclient/transfer/artifact_push.hpp"

namespace wbclient {
namespace {

void ensure_in_memory_blob(RegistryClient& client, std::string_view repository, const std::string& bytes) {
    if (!client.blob_size(repository, digest_of(bytes))) client.push_blob(repository, bytes);
}

// 2.8.2 stores a manifest whose subject is nothing at all; refuse before it does.
void check_subject(RegistryClient& client, std::string_view repository, const Descriptor& subject) {
    const Descriptor found = subject_descriptor(client, repository, subject.digest);
    if (found.size != subject.size || found.media_type != subject.media_type)
        throw std::runtime_error("the subject " + subject.digest.str() + " in " + std::string(repository) + " is a " +
                                 found.media_type + " of " + std::to_string(found.size) + " bytes, not the " +
                                 subject.media_type + " of " + std::to_string(subject.size) +
                                 " bytes the artifact names");
}

}  // namespace

Descriptor subject_descriptor(RegistryClient& client, std::string_view repository, const Digest& digest) {
    try {
        const ManifestSummary found = head_manifest(client, repository, digest.str());
        return Descriptor{.media_type = found.media_type, .digest = found.digest, .size = found.size};
    } catch (const RegistryError& error) {
        if (error.status() != 404) throw;
        throw SubjectNotFound("the subject " + digest.str() + " is no manifest of " + std::string(repository) +
                              " (HEAD answered 404): an artifact must refer to something the repository holds");
    }
}

//! [push_artifact]
PushedArtifact push_artifact(RegistryClient& client, std::string_view repository, const Artifact& artifact,
                             bool update_referrers_tag) {
    check_subject(client, repository, artifact.subject);
    ArtifactSpec spec{.artifact_type = artifact.artifact_type,
                      .subject = artifact.subject,
                      .annotations = artifact.annotations};
    ensure_in_memory_blob(client, repository, std::string(empty_config_bytes));
    for (const ArtifactBlob& blob : artifact.blobs) {
        ensure_in_memory_blob(client, repository, blob.bytes);
        spec.blobs.push_back(descriptor_of(blob.media_type, blob.bytes));
    }
    const std::string bytes = artifact_manifest(spec);
    const Descriptor manifest = descriptor_of(media_type::oci_manifest, bytes);
    PushedArtifact pushed{.referrer = referrer_descriptor(manifest, spec), .manifest = bytes};
    // By digest, no tag: an artifact is found through its subject, not by name.
    const PutManifestAnswer answer =
        put_manifest_answer(client, repository, manifest.digest.str(), media_type::oci_manifest, pushed.manifest);
    pushed.oci_subject = answer.oci_subject;
    // OCI-Subject says the registry lists it in its referrers API; without it, we keep the tag.
    if (!answer.oci_subject && update_referrers_tag)
        pushed.referrers_tag = add_referrer(client, repository, artifact.subject.digest, pushed.referrer);
    return pushed;
}
//! [push_artifact]

}  // namespace wbclient
