#include "wbclient/transfer/referrers_tag.hpp"

#include <algorithm>

namespace wbclient {
namespace {

std::string where(std::string_view repository, const std::string& tag) {
    return std::string(repository) + ":" + tag;
}

std::string shown(const std::optional<Digest>& digest) { return digest ? digest->str() : "nothing (404)"; }

}  // namespace

//! [read_referrers_tag]
ReferrersTagState read_referrers_tag(RegistryClient& client, std::string_view repository, const Digest& subject) {
    ReferrersTagState state{.tag = referrers_tag(subject)};
    std::optional<FetchedManifest> fetched;
    try {
        fetched = get_manifest(client, repository, state.tag);
    } catch (const RegistryError& error) {
        // No tag yet: nobody has pushed a referrer of this subject. That is an empty list.
        if (error.status() == 404) return state;
        throw;
    } catch (const std::invalid_argument& error) {
        throw NotAReferrersIndex(where(repository, state.tag) + " is not a referrers index: " + error.what());
    }
    if (fetched->media_type != media_type::oci_index)
        throw NotAReferrersIndex(where(repository, state.tag) + " holds a " + fetched->media_type +
                                 ", not the OCI image index of referrers the tag schema puts there; refusing to "
                                 "overwrite it");
    state.digest = fetched->digest;
    state.referrers = std::move(fetched->parsed.manifests);
    return state;
}
//! [read_referrers_tag]

std::optional<Digest> referrers_tag_digest(RegistryClient& client, std::string_view repository, const Digest& subject) {
    try {
        return head_manifest(client, repository, referrers_tag(subject)).digest;
    } catch (const RegistryError& error) {
        if (error.status() == 404) return std::nullopt;
        throw;
    }
}

Digest write_referrers_tag(RegistryClient& client, std::string_view repository, const Digest& subject,
                           const std::vector<Descriptor>& referrers) {
    return put_manifest(client, repository, referrers_tag(subject), media_type::oci_index, referrers_index(referrers));
}

//! [add_referrer]
ReferrerAdded add_referrer(RegistryClient& client, std::string_view repository, const Digest& subject,
                           const Descriptor& referrer, int max_attempts) {
    ReferrerAdded added;
    const std::string tag = where(repository, referrers_tag(subject));
    while (added.attempts < max_attempts) {
        ++added.attempts;
        ReferrersTagState state = read_referrers_tag(client, repository, subject);
        if (names_referrer(state.referrers, referrer.digest)) {
            added.tag_digest = state.digest;
            added.already_listed = added.conflicts.empty();
            return added;
        }
        state.referrers.push_back(referrer);
        // 2.8.2 has no If-Match: compare the digest read with the digest the tag holds now.
        if (const auto now = referrers_tag_digest(client, repository, subject); now != state.digest) {
            added.conflicts.push_back("before writing: " + tag + " moved from " + shown(state.digest) + " to " +
                                      shown(now) + " since it was read");
            continue;
        }
        const Digest written = write_referrers_tag(client, repository, subject, state.referrers);
        // A writer that read what we read and wrote after us has replaced our index with its own.
        if (const auto after = referrers_tag_digest(client, repository, subject); after != written) {
            added.conflicts.push_back("after writing: " + tag + " holds " + shown(after) + ", not the " +
                                      written.str() + " just written");
            continue;
        }
        added.tag_digest = written;
        return added;
    }
    throw std::runtime_error("could not add " + referrer.digest.str() + " to " + tag + ": another client changed it " +
                             "in each of " + std::to_string(max_attempts) + " attempts");
}
//! [add_referrer]

}  // namespace wbclient
