// Reading the small JSON answers of the listing endpoints (catalog, tags): a broken answer is
// an error that names the request, never an empty list.
#pragma once

#include "wbclient/http/http.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

namespace wbclient {

inline nlohmann::json parse_body(const Request& request, const Response& response) {
    auto json = nlohmann::json::parse(response.body, nullptr, false);
    if (!json.is_object())
        throw std::runtime_error(request.method + " " + request.url +
                                 ": the answer is not a JSON object");
    return json;
}

// Registries send string arrays; anything else is a broken answer, not an empty list.
inline std::vector<std::string> string_array(const Request& request, const nlohmann::json& body,
                                      const char* field) {
    const auto found = body.find(field);
    if (found == body.end() || found->is_null()) return {};
    if (!found->is_array() ||
        !std::all_of(found->begin(), found->end(), [](const auto& v) { return v.is_string(); }))
        throw std::runtime_error(request.method + " " + request.url + ": \"" + field +
                                 "\" is not a list of strings");
    return found->get<std::vector<std::string>>();
}

}  // namespace wbclient
