#include "wbclient/model/reference.hpp"

#include "wbclient/model/text.hpp"

#include <charconv>
#include <regex>
#include <stdexcept>

namespace wbclient {
namespace {

// The grammar of distribution's reference package, one piece at a time.
const std::regex path_component("[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*");
const std::regex tag_pattern("[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}");
const std::regex host_pattern("[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\\[[0-9A-Fa-f:.]+\\]");

[[noreturn]] void reject(std::string_view text, const std::string& why) {
    throw std::invalid_argument("invalid reference '" + printable(text) + "': " + printable(why));
}

}  // namespace

void check_registry_name(std::string_view text, std::string_view registry) {
    // A DNS name has at most 253 characters; checked before the regex, whose recursive
    // matcher (libstdc++) overflows the stack on inputs of some ten thousand characters.
    if (registry.size() > 255) reject(text, "the registry name is longer than 255 characters");
    std::string_view host = registry;
    if (const auto colon = registry.rfind(':');
        colon != std::string_view::npos && registry.back() != ']') {
        host = registry.substr(0, colon);
        const auto port_text = registry.substr(colon + 1);
        unsigned port = 0;
        const auto [end, error] =
            std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
        if (port_text.empty() || error != std::errc() ||
            end != port_text.data() + port_text.size() || port == 0 || port > 65535)
            reject(text, "port '" + std::string(port_text) + "' is not a number from 1 to 65535");
    }
    if (!std::regex_match(host.begin(), host.end(), host_pattern))
        reject(text, "'" + std::string(host) + "' is not a valid registry host");
}

namespace {

bool is_docker_hub(std::string_view registry) {
    return registry == "docker.io" || registry == "index.docker.io" ||
           registry == "registry-1.docker.io";
}

}  // namespace

Reference Reference::parse(std::string_view text, std::string_view default_registry) {
    if (text.empty()) reject(text, "it is empty");
    // Docker's grammar, not URL parsing: no reference contains "://", and a reader who types
    // a registry's URL where an image goes is told so instead of "invalid port".
    if (text.find("://") != std::string_view::npos)
        reject(text, "a reference has no scheme; write host:port/name:tag");

    Reference ref;
    std::string_view rest = text;

    if (const auto at = rest.find('@'); at != std::string_view::npos) {
        try {
            ref.digest = Digest::parse(rest.substr(at + 1));
        } catch (const std::invalid_argument& e) {
            reject(text, e.what());
        }
        rest = rest.substr(0, at);
    }

    // A colon after the last slash starts the tag; one before it belongs to host:port.
    const auto last_slash = rest.rfind('/');
    if (const auto colon = rest.rfind(':');
        colon != std::string_view::npos &&
        (last_slash == std::string_view::npos || colon > last_slash)) {
        ref.tag = std::string(rest.substr(colon + 1));
        if (!std::regex_match(ref.tag, tag_pattern))
            reject(text, "tag '" + ref.tag + "' must be 1-128 characters of [A-Za-z0-9_.-]");
        rest = rest.substr(0, colon);
    }

    const auto first_slash = rest.find('/');
    const auto first = rest.substr(0, first_slash);
    const bool names_registry =
        first_slash != std::string_view::npos &&
        (first.find_first_of(".:") != std::string_view::npos || first == "localhost");
    if (names_registry) {
        ref.registry = std::string(first);
        rest = rest.substr(first_slash + 1);
    } else {
        ref.registry = std::string(default_registry);
    }
    check_registry_name(text, ref.registry);

    if (rest.empty()) reject(text, "the repository name is empty");
    if (rest.size() > 255) reject(text, "the repository name is longer than 255 characters");
    std::string_view components = rest;
    while (true) {
        const auto slash = components.find('/');
        const auto component = components.substr(0, slash);
        if (!std::regex_match(component.begin(), component.end(), path_component))
            reject(text, "name component '" + std::string(component) +
                             "' must be lower-case letters and digits, separated by . _ __ or -");
        if (slash == std::string_view::npos) break;
        components = components.substr(slash + 1);
    }
    ref.repository = std::string(rest);
    if (is_docker_hub(ref.registry) && ref.repository.find('/') == std::string::npos)
        ref.repository = "library/" + ref.repository;

    if (ref.tag.empty() && !ref.digest) ref.tag = "latest";
    return ref;
}

std::string Reference::str() const {
    std::string text = registry + "/" + repository;
    if (!tag.empty()) text += ":" + tag;
    if (digest) text += "@" + digest->str();
    return text;
}

}  // namespace wbclient
