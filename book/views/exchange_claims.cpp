#include "exchange_claims.hpp"

#include "path_template.hpp"

#include <algorithm>
#include <fstream>
#include <regex>

namespace fs = std::filesystem;

namespace book {

std::vector<ExchangeClaim> find_claims(const fs::path& chapters_dir) {
    static const std::regex claim(R"(\\exchange\{(\d\d),(\d+),([^}]*)\})");
    std::vector<fs::path> pages;
    for (const auto& entry : fs::directory_iterator(chapters_dir))
        if (entry.path().extension() == ".md") pages.push_back(entry.path());
    std::sort(pages.begin(), pages.end());
    std::vector<ExchangeClaim> claims;
    for (const fs::path& page : pages) {
        std::ifstream in(page);
        int number = 0;
        for (std::string line; std::getline(in, line);) {
            ++number;
            for (auto it = std::sregex_iterator(line.begin(), line.end(), claim); it != std::sregex_iterator(); ++it)
                claims.push_back({page, number, (*it)[1], std::stoi((*it)[2]), (*it)[3]});
        }
    }
    return claims;
}

std::string check_claims(const std::vector<ExchangeClaim>& claims,
                         const std::map<std::string, Conversation>& recorded) {
    std::string report;
    for (const ExchangeClaim& claim : claims) {
        const std::string where = claim.file.filename().string() + ":" + std::to_string(claim.line) +
                                  " points at exchange " + std::to_string(claim.number) + " of chapter " +
                                  claim.chapter + " (\"" + claim.says + "\")";
        const auto found = recorded.find(claim.chapter);
        if (found == recorded.end()) {
            report += "  " + where + ", but chapter " + claim.chapter + " was not recorded\n";
            continue;
        }
        const auto& exchanges = found->second.exchanges;
        if (claim.number < 1 || static_cast<std::size_t>(claim.number) > exchanges.size()) {
            report += "  " + where + ", but the run has " + std::to_string(exchanges.size()) + " exchanges\n";
            continue;
        }
        const RecordedExchange& exchange = exchanges[static_cast<std::size_t>(claim.number) - 1];
        const auto& client = exchange.client;
        const std::string is =
            client.method + " " + path_template(client.uri) + " " + std::to_string(client.status);
        // "<method> <path> <status>", then "; header: <name>[: <value>]" or "; logged: <text>".
        std::vector<std::string> parts;
        for (std::size_t at = 0; at <= claim.says.size();) {
            const auto end = std::min(claim.says.find("; ", at), claim.says.size());
            parts.push_back(claim.says.substr(at, end - at));
            at = end + 2;
        }
        if (parts.front() != is) {
            report += "  " + where + ", which is now \"" + is + "\"\n";
            continue;
        }
        for (std::size_t i = 1; i < parts.size(); ++i) {
            const std::string& part = parts[i];
            bool holds = false;
            if (part.starts_with("header: ")) {
                const std::string wanted = part.substr(8);
                const auto colon = wanted.find(": ");
                const auto value = client.response_header(wanted.substr(0, colon));
                holds = value && (colon == std::string::npos || value->find(wanted.substr(colon + 2)) != std::string::npos);
            } else if (part.starts_with("logged: ") && exchange.logged) {
                for (const std::string& message : exchange.logged->messages)
                    holds = holds || message.find(part.substr(8)) != std::string::npos;
            }
            if (!holds) report += "  " + where + ", but the exchange's answer or log has no \"" + part + "\"\n";
        }
    }
    return report;
}

}  // namespace book
