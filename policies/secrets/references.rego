# Helpers shared by the secrets rules: references to values kept outside Git, and where a
# document came from (input.origin).
package ova.lib.secrets

params := data.ova.params.secrets

# reference(value): value names a secret kept outside Git (1Password op://, Vault vault:, vals
# ref+, argocd-vault-plugin <path:...>, Flux substitution ${VAR}, a template {{ ... }}); the
# patterns are the parameter secrets.reference_patterns. Surrounding blanks (a trailing newline
# of `echo ... | base64`) do not count.
reference(value) if {
	is_string(value)
	v := trim_space(value)
	some pattern in object.get(params, "reference_patterns", [])
	regex.match(pattern, v)
}

# empty(value): no value at all.
empty(value) if value == null

empty(value) if value == ""

# text(field, value): the value as the workload reads it: base64-decoded for data (the raw string
# when it is not base64), as written for stringData.
text("data", value) := base64.decode(value) if {
	is_string(value)
	base64.is_valid(value)
} else := value

text("stringData", value) := value

# plaintext(field, value): a value that Git would expose: not empty and not a reference.
plaintext(field, value) if {
	t := text(field, value)
	not empty(t)
	not reference(t)
}

# origin of the input: {"producer": "file"} when the producer does not say (older code paths).
origin := object.get(input, "origin", {})

producer := object.get(origin, "producer", "file")
