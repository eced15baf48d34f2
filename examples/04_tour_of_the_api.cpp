// Chapter 04: list every image in a registry (catalog, tags, digests), then provoke every error
// its API answers with.
//
// Usage: 04_tour_of_the_api [registry [upstream]]
//   e.g. 04_tour_of_the_api localhost:5000 localhost:5001
#include "wbclient/distribution/registry_client.hpp"
#include "wbclient/http/url.hpp"
#include "program_options.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <iomanip>
#include <iostream>
#include <sstream>

using namespace wbclient;

namespace {

// One line of the image table; names longer than the columns push the rest to the right.
std::ostream& row(std::ostream& out, std::string_view repository, std::string_view tag, std::string_view digest,
                  std::string_view size, std::string_view type) {
    if (type.starts_with("application/vnd.")) type.remove_prefix(16);
    return out << std::left << std::setw(16) << repository << "  " << std::setw(7) << tag << "  " << std::setw(71)
               << digest << std::right << std::setw(6) << size << "  " << type << "\n";
}

std::string trimmed(const std::string& body) { return body.substr(0, body.find_last_not_of('\n') + 1); }

struct ErrorCase {
    std::string code;  // errors[0].code of registry 2.8.2's answer; "" for its plain-text 404
    long status;
    RegistryClient& client;
    std::function<Request()> request;
};

std::string oci_manifest(const std::string& config_digest, std::size_t config_size) {
    const nlohmann::json config{{"mediaType", media_type::oci_config}, {"digest", config_digest}, {"size", config_size}};
    return nlohmann::json{{"schemaVersion", 2}, {"mediaType", media_type::oci_manifest}, {"config", config},
                          {"layers", nlohmann::json::array()}}.dump();
}

}  // namespace

int main(int argc, char* argv[]) try {
    if (argc > 3) {
        std::cerr << "usage: " << argv[0] << " [registry [upstream]]   e.g. localhost:5000 localhost:5001\n";
        return EXIT_FAILURE;
    }
    RegistryClient client(argc > 1 ? argv[1] : workbook::default_registry(), workbook::client_options());
    RegistryClient upstream(argc > 2 ? argv[2] : workbook::default_upstream(), workbook::client_options());

    //! [tour_repositories]
    // Three tiny repositories of our own (a config, no layers), so that pages of two show.
    const std::string config = R"({"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}})";
    const std::string manifest = oci_manifest(digest_of(config).str(), config.size());
    for (const char* repository : {"tour/alpha", "tour/beta", "tour/gamma"}) {
        client.push_blob(repository, config);
        client.put_manifest(repository, "latest", media_type::oci_manifest, manifest);
    }
    // More tags, pushed neither sorted nor reversed: in which order will tags/list answer?
    for (const char* tag : {"v2", "edge", "v10", "stable", "v1"})
        client.put_manifest("tour/alpha", tag, media_type::oci_manifest, manifest);
    //! [tour_repositories]
    std::cout << "Pushed tour/alpha, tour/beta, tour/gamma: " << digest_of(manifest).str() << "\n";

    //! [catalog]
    // `crane catalog`: GET /v2/_catalog?n=2, then follow each rel="next" Link until none is left.
    std::cout << "\nThe catalog, two repositories per page:\n";
    const auto repositories = list_repositories(client, 2, [](const CatalogPage& page) {
        std::cout << "  " << Url(page.url).path_and_query() << " ->";
        for (const auto& repository : page.repositories) std::cout << " " << repository;
        std::cout << "\n    Link: " << page.link.value_or("(none: the last page)") << "\n";
    });
    //! [catalog]

    //! [tags]
    // `crane ls` per repository, sorted here since 2.8.2 does not; then `crane digest`, by HEAD.
    std::ostringstream table;
    std::cout << "\nTags, in the order tags/list sent them:\n";
    for (const auto& repository : repositories) {
        std::vector<std::string> tags = list_tags(client, repository);
        std::cout << "  " << repository << ":";
        for (const auto& tag : tags) std::cout << " " << tag;
        std::cout << (tags.empty() ? " (none: only blobs, or every tag deleted)\n" : "\n");
        std::sort(tags.begin(), tags.end());
        for (const auto& tag : tags) {
            const ManifestSummary manifest = head_manifest(client, repository, tag);
            row(table, repository, tag, manifest.digest.str(), std::to_string(manifest.size), manifest.media_type);
        }
    }
    // The spec pages tags like the catalog; 2.8.2 ignores n and last and sends them all.
    const Request page{.url = client.url("tour/alpha", "tags/list?n=2&last=edge")};
    const Response paged = client.http().perform(page);
    if (paged.status != 200) throw RegistryError(page, paged);
    std::cout << "  tour/alpha, asking for n=2 after edge: " << trimmed(paged.body) << "\n";
    //! [tags]
    std::cout << "\nEvery image, tags sorted:\n";
    row(std::cout, "REPOSITORY", "TAG", "DIGEST", "SIZE", "TYPE (application/vnd.*)") << table.str();

    //! [error_cases]
    // Each error provoked by one request (BLOB_UPLOAD_UNKNOWN needs two first), and 2.8.2's answer.
    const std::string zeros = "sha256:" + std::string(64, '0');
    auto put_manifest = [&](const std::string& body) {
        Request request{.method = "PUT", .url = client.url("tour/alpha", "manifests/broken"), .body = body};
        request.headers.add("Content-Type", std::string(media_type::oci_manifest));
        return request;
    };
    auto get = [](RegistryClient& on, std::string repository, std::string rest) {
        return [&on, repository, rest] { return Request{.url = on.url(repository, rest)}; };
    };
    const std::vector<ErrorCase> cases = {
        {"BLOB_UNKNOWN", 404, client, get(client, "tour/alpha", "blobs/" + zeros)},
        {"MANIFEST_UNKNOWN", 404, client, get(client, "tour/alpha", "manifests/no-such-tag")},
        {"NAME_UNKNOWN", 404, client, get(client, "tour/no-such-repository", "tags/list")},
        {"DIGEST_INVALID", 400, client, get(client, "tour/alpha", "blobs/sha256:abc")},
        {"MANIFEST_INVALID", 400, client, [&] { return put_manifest("this is not JSON"); }},
        {"MANIFEST_BLOB_UNKNOWN", 400, client, [&] { return put_manifest(oci_manifest(zeros, 2)); }},
        {"BLOB_UPLOAD_INVALID", 404, client, get(client, "tour/alpha", "blobs/uploads/no-such-upload")},
        {"BLOB_UPLOAD_UNKNOWN", 404, client, [&] {
             // Open an upload and cancel it: its Location then names a session that is gone.
             const Request open{.method = "POST", .url = client.url("tour/alpha", "blobs/uploads/")};
             const Response session = client.http().perform(open);
             const auto location = session.headers.get("Location");
             if (session.status != 202 || !location) throw RegistryError(open, session);
             const Request cancel{.method = "DELETE", .url = client.absolute(*location)};
             if (const Response gone = client.http().perform(cancel); gone.status != 204)
                 throw RegistryError(cancel, gone);
             return Request{.url = cancel.url};
         }},
        {"PAGINATION_NUMBER_INVALID", 400, client, [&] { return Request{.url = client.base_url() + "/v2/_catalog?n=1001"}; }},
        {"UNSUPPORTED", 405, upstream, [&] {  // delete is disabled on the upstream, as on Docker Hub
             return Request{.method = "DELETE", .url = upstream.url("library/busybox", "manifests/" + zeros)}; }},
        {"UNKNOWN", 500, client, get(client, std::string(256, 'a'), "tags/list")},  // > 255 characters
        {"", 404, client, get(client, "tour/Alpha", "tags/list")},  // upper case: not a name
    };
    //! [error_cases]

    //! [provoke]
    std::cout << "\nEvery error the API answers with:\n";
    int surprises = 0;
    for (const ErrorCase& expected : cases) {
        const Request request = expected.request();
        const Response response = expected.client.http().perform(request);
        const std::string code = RegistryError(request, response).code();
        std::cout << "  " << (expected.code.empty() ? "(no code)" : expected.code) << ": " << request.method << " "
                  << Url(request.url).authority() + Url(request.url).path_and_query() << "\n    " << response.status << " "
                  << response.reason << "  " << trimmed(response.body) << "\n";
        if (response.status != expected.status || code != expected.code) ++surprises;
    }
    //! [provoke]
    if (surprises > 0)
        throw std::runtime_error(std::to_string(surprises) + " of " + std::to_string(cases.size()) +
                                 " requests were not answered the way registry 2.8.2 answers them");
    std::cout << "All " << cases.size() << " answers are the ones registry 2.8.2 gives.\n";
    return EXIT_SUCCESS;
} catch (const std::exception& error) {
    std::cerr << "04_tour_of_the_api: " << error.what() << "\n";
    return EXIT_FAILURE;
}
