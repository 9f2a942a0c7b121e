# tflint's own Terraform rules (naming, typed and documented variables, unused declarations, deprecated syntax).
# The AWS ruleset plugin is downloaded from GitHub releases, which cannot be reached here, so it is not enabled.
plugin "terraform" {
  enabled = true
  preset  = "recommended"
}

rule "terraform_documented_variables" {
  enabled = true
}

rule "terraform_documented_outputs" {
  enabled = true
}

rule "terraform_typed_variables" {
  enabled = true
}
