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
        const auto& client = exchanges[static_cast<std::size_t>(claim.number) - 1].client;
        const std::string is =
            client.method + " " + path_template(client.uri) + " " + std::to_string(client.status);
        if (is != claim.says) report += "  " + where + ", which is now \"" + is + "\"\n";
    }
    return report;
}

}  // namespace book
