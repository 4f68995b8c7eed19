#!/bin/sh
# azd postprovision hook (POSIX sh; infra/hooks/postprovision.ps1 is the Windows twin).
#
# The function app's identity needs Defender API *application* permissions: app role assignments on the
# WindowsDefenderATP service principal, an Entra ID (Microsoft Graph) operation that Bicep cannot do with
# resource-group rights. This hook
#   1. works out the roles from EXPORT_KINDS: Software.Read.All, plus Vulnerability.Read.All for a
#      vulnerability export kind;
#   2. grants the missing ones itself when the operator opted in (azd env set DEFENDER_GRANT true) and
#      the signed-in `az` account holds the Graph rights (Privileged Role Administrator, Cloud Application
#      Administrator or Application Administrator, or AppRoleAssignment.ReadWrite.All);
#      otherwise prints the exact commands for whoever holds them;
#   3. lists the identity's app role assignments and says which roles are still missing.
# It never fails the provisioning: without the grant the app deploys and runs, and the timer's Defender
# call reports 403 until an administrator has granted it. Rerun it with `azd hooks run postprovision`.
#
# Inputs (azd passes the environment's values): AZURE_IDENTITY_PRINCIPAL_ID, EXPORT_KINDS (main.bicep
# outputs), DEFENDER_GRANT (true to grant).
set -u

DEFENDER_APP_ID=fc780465-2017-40d4-a0c5-307022471b92 # WindowsDefenderATP, the same in every tenant
GRAPH=https://graph.microsoft.com/v1.0

principal=${AZURE_IDENTITY_PRINCIPAL_ID:-}
kinds=${EXPORT_KINDS:-SoftwareInventory}
grant=$(printf '%s' "${DEFENDER_GRANT:-false}" | tr 'A-Z' 'a-z')

if [ -z "$principal" ]; then
  echo "postprovision: AZURE_IDENTITY_PRINCIPAL_ID is not set; run this through azd after 'azd provision'." >&2
  exit 1
fi

# The app role each kind needs (the `permission` of shared/kinds/exportKinds.ts; docs/kinds.md): the two
# software inventories Software.Read.All, vulnerabilities and secure configurations Vulnerability.Read.All.
software=0
vulnerability=0
for k in $(printf '%s' "$kinds" | tr 'A-Z,' 'a-z '); do
  case "$k" in
    softwareinventory | noncpesoftwareinventory) software=1 ;;
    softwarevulnerabilities | secureconfigurations) vulnerability=1 ;;
    *) echo "postprovision: EXPORT_KINDS lists '$k', which is not an export kind (docs/kinds.md); the app will refuse it." >&2 ;;
  esac
done
[ $software = 1 ] || [ $vulnerability = 1 ] || software=1
roles=""
[ $software = 1 ] && roles="Software.Read.All"
[ $vulnerability = 1 ] && roles="${roles:+$roles }Vulnerability.Read.All"

echo
echo "Defender API permissions for the function app's identity (service principal $principal)"
echo "  needed for EXPORT_KINDS=$kinds: $roles"

# printf, not echo: dash's echo would read the backslashes of the printed commands as escapes
say() { printf '%s\n' "$*"; }

print_commands() {
  # $1: the Defender service principal id, or empty when unknown; then role=id pairs, or role names
  # when the ids are unknown (the printed commands then look them up themselves)
  sp=$1
  shift
  echo
  echo "An administrator who may grant admin consent for application permissions (Privileged Role"
  echo "Administrator, Cloud Application Administrator or Application Administrator) runs, with the Azure CLI:"
  echo
  if [ -z "$sp" ]; then
    say "  DEFENDER_SP=\$(az ad sp show --id $DEFENDER_APP_ID --query id -o tsv)"
    sp='$DEFENDER_SP'
  fi
  for pair in "$@"; do
    role=${pair%%=*}
    id=${pair#*=}
    say "  # $role"
    if [ "$id" = "$pair" ]; then
      say "  ROLE_ID=\$(az ad sp show --id $DEFENDER_APP_ID --query \"appRoles[?value=='$role'].id | [0]\" -o tsv)"
      id='$ROLE_ID'
    fi
    say "  az rest --method POST --uri $GRAPH/servicePrincipals/$principal/appRoleAssignments \\"
    say "    --headers Content-Type=application/json \\"
    say "    --body \"{\\\"principalId\\\":\\\"$principal\\\",\\\"resourceId\\\":\\\"$sp\\\",\\\"appRoleId\\\":\\\"$id\\\"}\""
  done
  echo
  echo "or says 'azd env set DEFENDER_GRANT true' and runs 'azd hooks run postprovision' signed in with 'az login'."
}

if ! command -v az >/dev/null 2>&1 || ! az account show --only-show-errors >/dev/null 2>&1; then
  echo
  echo "The Azure CLI is not installed or not signed in ('az login'), so nothing was checked or granted."
  # shellcheck disable=SC2086
  print_commands "" $roles
  exit 0
fi

defender_sp=$(az ad sp show --id "$DEFENDER_APP_ID" --query id -o tsv --only-show-errors 2>/dev/null)
if [ -z "$defender_sp" ]; then
  echo
  echo "The WindowsDefenderATP service principal ($DEFENDER_APP_ID) was not found in this tenant: Microsoft"
  echo "Defender for Endpoint is not set up here, or this account cannot read service principals."
  # shellcheck disable=SC2086
  print_commands "" $roles
  exit 0
fi

# role name -> app role id, from the service principal itself
pairs=""
for role in $roles; do
  id=$(az ad sp show --id "$DEFENDER_APP_ID" --query "appRoles[?value=='$role'].id | [0]" -o tsv --only-show-errors)
  if [ -z "$id" ]; then
    echo "WindowsDefenderATP has no app role $role: check EXPORT_KINDS." >&2
    continue
  fi
  pairs="$pairs $role=$id"
done

# app role ids granted on WindowsDefenderATP, one per line
granted_ids() {
  az rest --method GET --uri "$GRAPH/servicePrincipals/$principal/appRoleAssignments" \
    --query "value[?resourceId=='$defender_sp'].appRoleId" -o tsv --only-show-errors
}

missing_pairs() {
  have=$(granted_ids) || return 1
  out=""
  for pair in $pairs; do
    case "$have" in
      *"${pair#*=}"*) ;;
      *) out="$out $pair" ;;
    esac
  done
  printf '%s' "$out"
}

if ! missing=$(missing_pairs); then
  echo "Could not list the identity's app role assignments (Microsoft Graph refused: this account may lack"
  echo "Application.Read.All / Directory.Read.All)."
  # shellcheck disable=SC2086
  print_commands "$defender_sp" $pairs
  exit 0
fi

if [ -n "$missing" ] && [ "$grant" = "true" ]; then
  for pair in $missing; do
    role=${pair%%=*}
    id=${pair#*=}
    echo "Granting $role ..."
    if az rest --method POST --uri "$GRAPH/servicePrincipals/$principal/appRoleAssignments" \
      --headers Content-Type=application/json \
      --body "{\"principalId\":\"$principal\",\"resourceId\":\"$defender_sp\",\"appRoleId\":\"$id\"}" \
      --only-show-errors >/dev/null; then
      echo "  granted."
    else
      echo "  refused: this account lacks the Graph rights to grant application permissions."
    fi
  done
  missing=$(missing_pairs) || missing=$pairs
fi

# verification: what the identity holds now
echo
echo "Granted on WindowsDefenderATP:"
for pair in $pairs; do
  case " $missing " in
    *" $pair "*) echo "  MISSING  ${pair%%=*}" ;;
    *) echo "  ok       ${pair%%=*}" ;;
  esac
done

if [ -n "$missing" ]; then
  if [ "$grant" != "true" ]; then
    echo
    echo "Not granted automatically: DEFENDER_GRANT is not 'true' in this azd environment."
  fi
  # shellcheck disable=SC2086
  print_commands "$defender_sp" $missing
  echo
  echo "Until then the timer's Defender call fails with 403. Tokens are cached for up to a day, so a fresh"
  echo "grant can take a while to show."
fi
exit 0
