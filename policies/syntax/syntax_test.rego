package ova.rules.syntax_test

import data.ova.rules.duplicate_key
import data.ova.rules.yaml_syntax

test_yaml_syntax if {
	vs := yaml_syntax.violation with input as {"parse_error": {"message": "did not find expected key", "line": 3, "column": 1}}
	some v in vs
	v.line == 3
}

test_no_parse_error if {
	count(yaml_syntax.violation) == 0 with input as {"object": {}}
}

test_duplicate_key if {
	vs := duplicate_key.violation with input as {"object": {}, "parse": {"duplicate_keys": [{"key": "name", "line": 5, "column": 3, "first_line": 4}]}}
	some v in vs
	v.line == 5
	contains(v.msg, "line 4")
}
