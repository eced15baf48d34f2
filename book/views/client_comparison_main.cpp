// Chapter 16's comparison table, from the registry's log of the recorded run: one row per
// client (user agent), counted by harness::compare_clients, so the page shows what the
// registry saw when the book was built, never typed-in numbers.
//
// Usage: client_comparison <recorded-dir>/16_other_clients.registry.jsonl <output.html>
#include "client_comparison.hpp"
#include "html_text.hpp"
#include "registry_instance.hpp"

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

namespace {

std::string joined(const std::set<std::string>& items) {
    std::string text;
    for (const std::string& item : items) text += (text.empty() ? "" : ", ") + item;
    return text.empty() ? "none" : text;
}

// "application/vnd.oci.image.manifest.v1+json" -> "OCI manifest": what the reader compares.
std::string short_type(const std::string& media_type) {
    if (media_type == "application/vnd.oci.image.manifest.v1+json") return "OCI manifest";
    if (media_type == "application/vnd.oci.image.index.v1+json") return "OCI index";
    if (media_type == "application/vnd.docker.distribution.manifest.v2+json") return "Docker schema2";
    if (media_type == "application/vnd.docker.distribution.manifest.list.v2+json") return "Docker list";
    return media_type;
}

std::string uploads(const harness::ClientConversation& row) {
    std::ostringstream text;
    text << row.monolithic_uploads << " / " << row.one_patch_uploads << " / " << row.chunked_uploads;
    return text.str();
}

std::string patch_sizes(const harness::ClientConversation& row) {
    if (row.largest_patch == 0) return "no PATCH";
    if (row.smallest_patch == row.largest_patch) return std::to_string(row.largest_patch) + " B";
    return std::to_string(row.smallest_patch) + " to " + std::to_string(row.largest_patch) + " B";
}

}  // namespace

int main(int argc, char* argv[]) try {
    if (argc != 3) {
        std::cerr << "usage: client_comparison <registry.jsonl> <output.html>\n";
        return EXIT_FAILURE;
    }
    std::ifstream in(argv[1]);
    if (!in) throw std::runtime_error(std::string("cannot read ") + argv[1]);
    std::ostringstream log;
    log << in.rdbuf();
    const auto rows = harness::compare_clients(harness::parse_registry_log(log.str()), {harness::harness_user_agent});
    if (rows.empty()) throw std::runtime_error(std::string(argv[1]) + " has no client's request");

    std::ostringstream html;
    html << "<table class=\"clients\">\n<tr><th>client</th><th>User-Agent</th><th>pushed to</th><th>named</th><th>requests</th>"
            "<th>connections</th><th>manifest HEAD / GET</th><th>blob HEAD / GET</th>"
            "<th>blob HEADs before uploading</th><th>uploads: no PATCH / one PATCH / chunked</th>"
            "<th>PATCH sizes</th><th>mounts</th><th>upload status GETs (resumes)</th>"
            "<th>manifests pushed as</th><th>tag lists / deletes</th></tr>\n";
    for (const auto& row : rows) {
        std::set<std::string> types;
        for (const auto& type : row.manifest_types) types.insert(short_type(type));
        html << "<tr><td>" << book::escaped(row.name) << "</td><td><code>" << book::escaped(row.client) << "</code></td><td>" << book::escaped(joined(row.pushed_to)) << "</td><td>" << book::escaped(joined(row.repositories))
             << "</td><td>" << row.requests << "</td><td>" << row.connections << "</td><td>" << row.manifest_heads << " / "
             << row.manifest_gets << "</td><td>" << row.blob_heads << " / " << row.blob_gets << "</td><td>"
             << row.heads_before_upload << "</td><td>" << uploads(row) << "</td><td>" << patch_sizes(row) << "</td><td>"
             << row.mounts << "</td><td>" << row.upload_status_checks << "</td><td>"
             << book::escaped(row.manifest_puts == 0 ? "nothing pushed" : joined(types)) << "</td><td>" << row.tag_lists
             << " / " << row.deletes << "</td></tr>\n";
    }
    html << "</table>\n";
    std::ofstream out(argv[2]);
    out << html.str();
    if (!out) throw std::runtime_error(std::string("cannot write ") + argv[2]);
    return EXIT_SUCCESS;
} catch (const std::exception& error) {
    std::cerr << "client_comparison: " << error.what() << "\n";
    return EXIT_FAILURE;
}
