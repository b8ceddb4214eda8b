// What Active Directory does differently from a standard LDAP server, in the
// pure pieces the LDAP directory needs to speak to it (no I/O here, so each is
// unit-tested on its own):
//
// - Passwords are the attribute unicodePwd, written only over an encrypted
//   connection, whose value is the password in double quotes encoded as
//   UTF-16LE (MS-ADTS 3.1.1.3.1.5 "unicodePwd"). A user's own change is one
//   Modify deleting the old value and adding the new one, so that AD checks
//   the old password and applies its history and minimum-age rules; an
//   administrator's reset replaces the value.
// - AD's refusals carry a Windows error code in the diagnostic message
//   ("0000052D: Constraint violation - check_password_restrictions: ..."),
//   which says whether the password broke the policy or the old one was wrong.
// - A multi-valued attribute with more values than AD's MaxValRange comes
//   back as "member;range=0-1499", and the client asks for the rest range by
//   range (MS-ADTS 3.1.1.3.1.3.3 "Range Retrieval of Attribute Values").
// - LDAP_MATCHING_RULE_IN_CHAIN (MS-ADTS 3.1.1.3.4.4.4, OID
//   1.2.840.113556.1.4.1941) follows group nesting at the server.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace dirproxy::active_directory {

// userAccountControl values (MS-ADTS 2.2.16): a normal account, and one that
// is disabled (NORMAL_ACCOUNT | ACCOUNTDISABLE), as a new account is made
// before its password is set.
inline constexpr unsigned kNormalAccount = 0x200;
inline constexpr unsigned kDisabledNormalAccount = 0x202;

// The OID of LDAP_MATCHING_RULE_IN_CHAIN.
inline constexpr std::string_view kMatchingRuleInChain = "1.2.840.113556.1.4.1941";

// The unicodePwd value for `password` (UTF-8): '"' + password + '"' as
// UTF-16LE bytes, characters beyond U+FFFF as surrogate pairs. bad_request
// (field `field`) when `password` is not well-formed UTF-8.
Result<std::string> unicode_password(std::string_view password, std::string_view field = "password");

// One range of an attribute's values as AD returns it: the attribute
// description "member;range=1500-2999" is {"member", 1500, 2999}; the last
// range ends in '*' ("member;range=3000-*": last = nullopt).
struct ValueRange {
  std::string attribute;  // without the range option, as written
  std::size_t first = 0;
  std::optional<std::size_t> last;  // nullopt: '*', the values end here

  bool operator==(const ValueRange&) const = default;
};

// The range in an attribute description, nullopt when it has none or it is
// malformed. The option is matched case-insensitively and may stand among
// other options ("member;binary;range=0-9").
std::optional<ValueRange> parse_value_range(std::string_view attribute_description);

// The attribute description that asks for the values from `first` to the end
// ("member;range=1500-*"); AD answers with as many as it hands out at once.
std::string range_request(std::string_view attribute, std::size_t first);

// What a refused unicodePwd write means, from AD's result code and
// diagnostic message:
// - weak_password carrying AD's reason when the password broke the policy
//   (length, complexity, history, minimum age: Windows error 0x52D
//   ERROR_PASSWORD_RESTRICTION, or any other constraintViolation);
// - invalid_credentials when the old password of a change was wrong
//   (0x56 ERROR_INVALID_PASSWORD);
// - internal_error with the server's text otherwise (e.g. unwillingToPerform
//   without 0x52D: AD refuses password writes over an unencrypted connection
//   that way).
// `directory` names the directory in the message; `field` is the request
// field the error points at ("password", "new_password").
Error password_refusal(std::string_view directory, int result_code, std::string_view diagnostic,
                       std::string_view field);

// The DNS domain of a domain's DN, from its DC components in order
// ("OU=Staff,DC=corp,DC=example,DC=com" -> "corp.example.com"); empty when it
// has none. For the userPrincipalName suffix of new accounts.
std::string dns_domain_of(std::string_view dn);

}  // namespace dirproxy::active_directory
