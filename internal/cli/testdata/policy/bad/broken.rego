package ova.rules.no_metadata

violation contains {"msg": "x"} if true
