// The entries of the tree: users, groups, service accounts, the containers,
// the root DSE, and which of an entry's attributes a search returns.
#include "frontends/ldap/ldap_tree.hpp"

#include <span>
#include <string>

#include "core/names.hpp"
#include "core/timestamp.hpp"
#include "core/unicode_text.hpp"
#include "directories/ldap/ldap_dn.hpp"
#include "frontends/ldap/ldap_schema.hpp"

namespace dirproxy::ldap {
namespace {

constexpr std::string_view kSubschemaSubentry = "cn=Subschema";

// Builds an entry's attribute list; attributes without a value are left out
// (LDAP has no empty attributes, and none of ours may hold an empty string).
class AttributeList {
 public:
  void add(std::string_view type, std::string value) {
    if (value.empty()) return;
    for (auto& attribute : attributes_) {
      if (attribute.type == type) {
        attribute.values.push_back(std::move(value));
        return;
      }
    }
    attributes_.push_back({std::string(type), {std::move(value)}});
  }
  void add(std::string_view type, const std::optional<std::string>& value) {
    if (value) add(type, *value);
  }
  void add(std::string_view type, std::initializer_list<std::string_view> values) {
    for (auto value : values) add(type, std::string(value));
  }
  void add(std::string_view type, std::span<const std::string_view> values) {
    for (auto value : values) add(type, std::string(value));
  }

  std::vector<Attribute> take() { return std::move(attributes_); }

 private:
  std::vector<Attribute> attributes_;
};

std::optional<std::string> non_empty(const std::optional<std::string>& text) {
  if (text && !text->empty()) return text;
  return std::nullopt;
}

std::string replace_all(std::string text, std::string_view placeholder, std::string_view value) {
  for (auto at = text.find(placeholder); at != std::string::npos; at = text.find(placeholder, at + value.size())) {
    text.replace(at, placeholder.size(), value);
  }
  return text;
}

// gecos is IA5 and ends up in a passwd line: every character that is not
// printable ASCII, and the passwd separator ':', becomes '?'.
std::string ascii_gecos(std::string_view text) {
  std::string gecos;
  while (!text.empty()) {
    const auto character = decode_utf8(text);
    const std::size_t bytes = character ? character->bytes : 1;
    const bool printable = character && character->code_point >= 0x20 && character->code_point < 0x7F;
    gecos += printable && character->code_point != ':' ? static_cast<char>(character->code_point) : '?';
    text.remove_prefix(bytes);
  }
  return gecos;
}

// The object classes and naming attributes an RDN of BASE needs.
void add_base_rdn(AttributeList& attributes, const DnRdn& rdn) {
  for (const auto& ava : rdn) {
    if (ava.ber) continue;
    if (same_attribute_type(ava.type, "dc")) {
      // dcObject is auxiliary; organization is the usual structural class
      // beside it (as `slapadd` examples and most distributions set up).
      attributes.add("objectClass", {"dcObject", "organization"});
      attributes.add("dc", ava.value);
      attributes.add("o", ava.value);
    } else if (same_attribute_type(ava.type, "o")) {
      attributes.add("objectClass", {"organization"});
      attributes.add("o", ava.value);
    } else if (same_attribute_type(ava.type, "ou")) {
      attributes.add("objectClass", {"organizationalUnit"});
      attributes.add("ou", ava.value);
    } else {
      // c=, l=, cn= ...: not worth a class each; extensibleObject admits
      // the naming attribute.
      attributes.add("objectClass", {"extensibleObject"});
      attributes.add(ava.type, ava.value);
    }
  }
}

bool requested(const std::vector<std::string>& names, std::string_view name) {
  for (const auto& candidate : names) {
    if (candidate == name) return true;
  }
  return false;
}

}  // namespace

Entry user_entry(const TreeSettings& tree, const UserEntry& entry) {
  const User& user = entry.user;
  const std::string display_name = non_empty(user.display_name).value_or(user.username);
  AttributeList attributes;
  attributes.add("objectClass", std::span<const std::string_view>(kUserObjectClasses));
  attributes.add("uid", user.username);
  attributes.add("cn", display_name);
  attributes.add("displayName", display_name);
  attributes.add("givenName", non_empty(user.first_name));
  attributes.add("sn", non_empty(user.last_name).value_or(display_name));  // person requires sn
  attributes.add("mail", non_empty(user.email));
  attributes.add("uidNumber", std::to_string(entry.identity.number));
  attributes.add("gidNumber", std::to_string(entry.gid_number));
  attributes.add("homeDirectory", replace_all(tree.home_directory, "{username}", user.username));
  attributes.add("loginShell", tree.login_shell);
  attributes.add("gecos", ascii_gecos(display_name));
  attributes.add("entryUUID", entry.identity.uuid);
  for (const auto& group : entry.groups) attributes.add("memberOf", group_dn(tree, group));
  if (entry.created_at) attributes.add("createTimestamp", generalized_time(*entry.created_at));
  if (entry.modified_at) attributes.add("modifyTimestamp", generalized_time(*entry.modified_at));
  attributes.add("subschemaSubentry", std::string(kSubschemaSubentry));
  return {user_dn(tree, user.username), attributes.take()};
}

Entry group_entry(const TreeSettings& tree, const GroupEntry& entry) {
  const Group& group = entry.group;
  AttributeList attributes;
  attributes.add("objectClass", std::span<const std::string_view>(kGroupObjectClasses));
  attributes.add("cn", group.name);
  attributes.add("description", non_empty(group.description));
  // groupOfNames requires a member, but an empty group has none to give:
  // like most servers that synthesise groups, we leave `member` out rather
  // than invent a placeholder DN that clients would try to resolve.
  for (const auto& member : group.members) attributes.add("member", user_dn(tree, member));
  for (const auto& member : group.members) attributes.add("memberUid", member);
  attributes.add("gidNumber", std::to_string(entry.identity.number));
  attributes.add("entryUUID", entry.identity.uuid);
  attributes.add("subschemaSubentry", std::string(kSubschemaSubentry));
  return {group_dn(tree, group.name), attributes.take()};
}

Entry service_entry(const TreeSettings& tree, std::string_view name) {
  AttributeList attributes;
  attributes.add("objectClass", {"top", "applicationProcess"});
  attributes.add("cn", std::string(name));
  attributes.add("subschemaSubentry", std::string(kSubschemaSubentry));
  return {service_dn(tree, name), attributes.take()};
}

Entry container_entry(const TreeSettings& tree, DnTarget::Kind container) {
  AttributeList attributes;
  attributes.add("objectClass", {"top"});
  if (container == DnTarget::Kind::people || container == DnTarget::Kind::groups ||
      container == DnTarget::Kind::services) {
    attributes.add("objectClass", {"organizationalUnit"});
    attributes.add("ou", std::string(container == DnTarget::Kind::people   ? "people"
                                     : container == DnTarget::Kind::groups ? "groups"
                                                                           : "services"));
  } else if (const auto rdns = split_dn(tree.base_dn); rdns && !rdns->empty()) {
    add_base_rdn(attributes, rdns->front());
  }
  attributes.add("subschemaSubentry", std::string(kSubschemaSubentry));
  return {container_dn(tree, container), attributes.take()};
}

Entry root_dse(const TreeSettings& tree) {
  AttributeList attributes;
  attributes.add("objectClass", {"top"});
  attributes.add("namingContexts", tree.base_dn);
  for (const auto& application : tree.application_trees) attributes.add("namingContexts", application.base_dn);
  attributes.add("supportedLDAPVersion", {"3"});
  if (tree.start_tls) attributes.add("supportedExtension", {oid::start_tls});
  attributes.add("supportedExtension", {oid::password_modify, oid::who_am_i});
  attributes.add("supportedControl", {oid::paged_results});
  // supportedSASLMechanisms: none, so the attribute is absent (RFC 4512 §5.1).
  attributes.add("subschemaSubentry", std::string(kSubschemaSubentry));
  attributes.add("vendorName", {"dirproxy"});
  attributes.add("vendorVersion", tree.vendor_version);
  return {"", attributes.take()};
}

std::vector<Attribute> select_attributes(Entry entry, const std::vector<std::string>& requested_names) {
  // "1.1" means none only when it is alone (RFC 4511 §4.5.1.8).
  const bool none = requested_names.size() == 1 && requested_names.front() == "1.1";
  const bool user = requested_names.empty() || requested(requested_names, "*");
  const bool operational = requested(requested_names, "+");
  // The root DSE's attributes are all operational, yet a client that reads
  // it asks for "*" or nothing and expects namingContexts; so it gives all of
  // them to either, as well as to "+".
  const bool root = entry.dn.empty();
  if (none) return {};
  std::erase_if(entry.attributes, [&](const Attribute& attribute) {
    const bool is_operational = attribute_is_operational(attribute.type);
    bool wanted = root ? user || operational : is_operational ? operational : user;
    for (const auto& name : requested_names) {
      if (wanted) break;
      wanted = same_attribute_type(attribute.type, name);
    }
    return !wanted;
  });
  return std::move(entry.attributes);
}

}  // namespace dirproxy::ldap
