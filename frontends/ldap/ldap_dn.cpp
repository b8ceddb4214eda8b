// Where a DN points in the tree, and the DNs the tree serves. Parsing,
// escaping and comparing are directories/ldap's (libldap's DN parser and
// printer), so that the front end and the LDAP directory read DNs alike.
#include "frontends/ldap/ldap_tree.hpp"

#include <string>

#include "core/names.hpp"
#include "directories/ldap/ldap_dn.hpp"
#include "frontends/ldap/ldap_schema.hpp"

namespace dirproxy::ldap {
namespace {

constexpr std::string_view kSubschemaDn = "cn=subschema";  // in normalize_dn() form

// Whether `rdn` is the single pair `type`=<some text value>; the value then.
std::optional<std::string> single_value(const DnRdn& rdn, std::string_view type) {
  if (rdn.size() != 1 || rdn[0].ber || !same_attribute_type(rdn[0].type, type)) return std::nullopt;
  return rdn[0].value;
}

std::string ou_dn(const TreeSettings& tree, std::string_view ou) {
  return join_dn(std::string("ou=") + std::string(ou), tree.base_dn);
}

// `rdn_type`=<escaped name>,`parent`; "" when libldap cannot print the name
// (empty, or not UTF-8).
std::string leaf_dn(std::string_view rdn_type, std::string_view name, const std::string& parent) {
  auto dn = make_dn(rdn_type, name, parent);
  return dn ? std::move(*dn) : std::string();
}

// Where `dn` (split into `rdns`) points in the tree under `base_dn`;
// Kind::outside when it is not under it.
DnTarget classify_under(std::string_view base_dn, const std::vector<DnRdn>& rdns, std::string_view dn) {
  using Kind = DnTarget::Kind;
  const auto base = split_dn(base_dn);
  if (!base || !dn_is_under(dn, base_dn)) return {Kind::outside, {}};

  const std::size_t depth = rdns.size() - base->size();
  if (depth == 0) return {Kind::base, {}};
  if (depth > 2) return {Kind::below_leaf, {}};
  const auto container = single_value(rdns[depth - 1], "ou");
  if (!container) return {Kind::below_leaf, {}};
  Kind container_kind = Kind::below_leaf;
  Kind leaf_kind = Kind::below_leaf;
  std::string_view leaf_type;
  if (same_name(*container, "people")) {
    container_kind = Kind::people, leaf_kind = Kind::user, leaf_type = "uid";
  } else if (same_name(*container, "groups")) {
    container_kind = Kind::groups, leaf_kind = Kind::group, leaf_type = "cn";
  } else if (same_name(*container, "services")) {
    container_kind = Kind::services, leaf_kind = Kind::service, leaf_type = "cn";
  } else {
    return {Kind::below_leaf, {}};
  }
  if (depth == 1) return {container_kind, {}};
  auto name = single_value(rdns[0], leaf_type);
  if (!name) return {Kind::below_leaf, {}};
  return {leaf_kind, std::move(*name)};
}

}  // namespace

DnTarget classify_dn(const TreeSettings& tree, std::string_view dn) {
  using Kind = DnTarget::Kind;
  const auto rdns = split_dn(dn);
  if (!rdns) return {Kind::invalid, {}};
  if (rdns->empty()) return {Kind::root_dse, {}};
  if (normalize_dn(dn) == kSubschemaDn) return {Kind::subschema, {}};
  DnTarget target = classify_under(tree.base_dn, *rdns, dn);
  if (target.kind != Kind::outside) {
    target.application = tree.application;
    return target;
  }
  // The bases never nest (checked when the configuration is loaded), so at
  // most one holds the DN.
  for (const auto& application : tree.application_trees) {
    target = classify_under(application.base_dn, *rdns, dn);
    if (target.kind == Kind::outside) continue;
    target.application = application.application;
    return target;
  }
  return {Kind::outside, {}};
}

TreeSettings application_view(const TreeSettings& tree, std::string_view application) {
  for (const auto& own : tree.application_trees) {
    if (own.application != application) continue;
    TreeSettings view = tree;
    view.base_dn = own.base_dn;
    view.application = own.application;
    view.application_trees.clear();
    return view;
  }
  return tree;
}

std::string user_dn(const TreeSettings& tree, std::string_view username) {
  return leaf_dn("uid", username, ou_dn(tree, "people"));
}

std::string group_dn(const TreeSettings& tree, std::string_view name) {
  return leaf_dn("cn", name, ou_dn(tree, "groups"));
}

std::string service_dn(const TreeSettings& tree, std::string_view name) {
  return leaf_dn("cn", name, ou_dn(tree, "services"));
}

std::string container_dn(const TreeSettings& tree, DnTarget::Kind container) {
  switch (container) {
    case DnTarget::Kind::people: return ou_dn(tree, "people");
    case DnTarget::Kind::groups: return ou_dn(tree, "groups");
    case DnTarget::Kind::services: return ou_dn(tree, "services");
    default: return tree.base_dn;
  }
}

}  // namespace dirproxy::ldap
