// Where a layout is while it is written: under a temporary sibling name, never under its final
// name until every blob is in and index.json is written. A client killed mid-pull leaves no
// half layout that looks like a whole one.
#include "workspace.hpp"

#include "wbclient/image/oci_layout.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <set>

namespace fs = std::filesystem;

namespace {

std::set<std::string> names_in(const fs::path& folder) {
    std::set<std::string> names;
    for (const auto& entry : fs::directory_iterator(folder)) names.insert(entry.path().filename().string());
    return names;
}

}  // namespace

TEST_CASE("OCI layout: the final folder appears only on commit", "[library][layout]") {
    harness::Workspace workspace("library-layout-staging");
    const fs::path final_folder = workspace.path() / "pulled";
    const std::string config = R"({"architecture":"amd64","os":"linux"})";
    const wbclient::Descriptor config_blob{.media_type = std::string(wbclient::media_type::oci_config),
                                           .digest = wbclient::digest_of(config),
                                           .size = config.size()};
    SECTION("in progress and after a failure: no folder under the final name") {
        {
            wbclient::OciLayoutWriter writer(final_folder);
            writer.add_blob(config_blob, config);
            CHECK_FALSE(fs::exists(final_folder));
            const auto names = names_in(workspace.path());
            REQUIRE(names.size() == 1);
            CHECK(names.begin()->starts_with("pulled.partial-"));
            // A blob that does not verify is refused, and the final name still does not exist.
            CHECK_THROWS_AS(writer.add_blob(config_blob, std::string("other bytes")), std::runtime_error);
            CHECK_FALSE(fs::exists(final_folder));
        }  // destroyed without commit: the pull failed
        CHECK(names_in(workspace.path()).empty());
    }
    SECTION("committed: the whole layout under the final name, nothing else") {
        wbclient::OciLayoutWriter writer(final_folder);
        writer.add_blob(config_blob, config);
        writer.commit(config_blob, "latest");  // any blob stands in for the manifest here
        CHECK(names_in(workspace.path()) == std::set<std::string>{"pulled"});
        CHECK(names_in(final_folder) == std::set<std::string>{"blobs", "index.json", "oci-layout"});
        CHECK(fs::exists(wbclient::layout_blob_path(final_folder, config_blob.digest)));
    }
}
