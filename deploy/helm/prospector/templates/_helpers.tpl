{{/* Names, labels and the parts every Prospector workload shares. */}}

{{- define "prospector.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "prospector.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains (include "prospector.name" .) .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name (include "prospector.name" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* Name of a component's objects: <fullname>-<component>. Call with (list $ "scorer"). */}}
{{- define "prospector.componentName" -}}
{{- $root := index . 0 -}}
{{- printf "%s-%s" (include "prospector.fullname" $root) (index . 1) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "prospector.selectorLabels" -}}
{{- $root := index . 0 -}}
app.kubernetes.io/name: {{ include "prospector.name" $root }}
app.kubernetes.io/instance: {{ $root.Release.Name }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end -}}

{{/* Labels of every object; call with (list $ "component"). */}}
{{- define "prospector.labels" -}}
{{- $root := index . 0 -}}
{{ include "prospector.selectorLabels" . }}
app.kubernetes.io/part-of: prospector
app.kubernetes.io/version: {{ $root.Chart.AppVersion | quote }}
{{- if not $root.Values.plainManifests }}
app.kubernetes.io/managed-by: {{ $root.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" $root.Chart.Name $root.Chart.Version | replace "+" "_" }}
{{- end }}
{{- end -}}

{{- define "prospector.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "prospector.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "prospector.image" -}}
{{- $root := index . 0 -}}
{{- $image := index . 1 -}}
{{- printf "%s:%s" $image.repository (default $root.Chart.AppVersion $image.tag) -}}
{{- end -}}

{{/* The JetStream stream a component consumes from; its durable consumer has the
     component's name. Both are fixed by crates/bus/src/topology.rs (tests/deploy checks). */}}
{{- define "prospector.inputStream" -}}
{{- get (dict "tiler" "PROSPECTOR_IMAGES" "extractor" "PROSPECTOR_TILES" "scorer" "PROSPECTOR_CUTOUTS") (index . 1) -}}
{{- end -}}

{{/* Environment shared by every service; call with (list $ "component"). */}}
{{- define "prospector.commonEnv" -}}
{{- $root := index . 0 -}}
{{- $component := index . 1 -}}
{{- $nats := $root.Values.nats -}}
- name: PROSPECTOR_CONFIG
  value: /etc/prospector/prospector.toml
- name: PROSPECTOR_METRICS_LISTEN
  value: "0.0.0.0:9090"
- name: PROSPECTOR_NATS_URL
  value: {{ $nats.url | quote }}
{{- if eq $nats.auth.mode "creds" }}
- name: PROSPECTOR_NATS_CREDS_FILE
  value: /etc/prospector/nats/{{ $component }}.creds
{{- else if eq $nats.auth.mode "userPassword" }}
- name: PROSPECTOR_NATS_USER
  valueFrom:
    secretKeyRef:
      name: {{ $nats.auth.existingSecret }}
      key: {{ $component }}-user
- name: PROSPECTOR_NATS_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $nats.auth.existingSecret }}
      key: {{ $component }}-password
{{- end }}
{{- if $nats.tls.enabled }}
- name: PROSPECTOR_NATS_TLS_CA
  value: /etc/prospector/nats-tls/ca.crt
{{- if $nats.tls.clientCertificate }}
- name: PROSPECTOR_NATS_TLS_CERT
  value: /etc/prospector/nats-tls/tls.crt
- name: PROSPECTOR_NATS_TLS_KEY
  value: /etc/prospector/nats-tls/tls.key
{{- end }}
{{- end }}
{{- end -}}

{{/* Environment of a service that serves gRPC on `port`; call with (list $ port). */}}
{{- define "prospector.grpcEnv" -}}
{{- $root := index . 0 -}}
- name: PROSPECTOR_GRPC_LISTEN
  value: "0.0.0.0:{{ index . 1 }}"
{{- if $root.Values.grpcTls.enabled }}
- name: PROSPECTOR_GRPC_TLS_CERT
  value: /etc/prospector/grpc-tls/tls.crt
- name: PROSPECTOR_GRPC_TLS_KEY
  value: /etc/prospector/grpc-tls/tls.key
{{- end }}
{{- end -}}

{{- define "prospector.apiTokenEnv" -}}
{{- if .Values.apiToken.enabled }}
- name: PROSPECTOR_API_TOKEN_FILE
  value: /etc/prospector/api-token/token
{{- end }}
{{- end -}}

{{/* Volumes every pod has: config, /tmp, its own NATS credentials, TLS material. */}}
{{- define "prospector.commonVolumes" -}}
{{- $root := index . 0 -}}
{{- $component := index . 1 -}}
{{- $nats := $root.Values.nats -}}
- name: config
  configMap:
    name: {{ include "prospector.fullname" $root }}-config
- name: tmp
  emptyDir:
    sizeLimit: {{ $root.Values.tmpSizeLimit }}
{{- if eq $nats.auth.mode "creds" }}
- name: nats-creds
  secret:
    secretName: {{ $nats.auth.existingSecret }}
    defaultMode: 0440
    items:
      - key: {{ $component }}.creds
        path: {{ $component }}.creds
{{- end }}
{{- if $nats.tls.enabled }}
- name: nats-tls
  secret:
    secretName: {{ $nats.tls.existingSecret }}
    defaultMode: 0440
{{- end }}
{{- end -}}

{{- define "prospector.commonMounts" -}}
{{- $root := index . 0 -}}
{{- $nats := $root.Values.nats -}}
- name: config
  mountPath: /etc/prospector/prospector.toml
  subPath: prospector.toml
  readOnly: true
- name: tmp
  mountPath: /tmp
{{- if eq $nats.auth.mode "creds" }}
- name: nats-creds
  mountPath: /etc/prospector/nats
  readOnly: true
{{- end }}
{{- if $nats.tls.enabled }}
- name: nats-tls
  mountPath: /etc/prospector/nats-tls
  readOnly: true
{{- end }}
{{- end -}}

{{- define "prospector.grpcVolumes" -}}
{{- if .Values.grpcTls.enabled }}
- name: grpc-tls
  secret:
    secretName: {{ .Values.grpcTls.existingSecret }}
    defaultMode: 0440
{{- end }}
{{- if .Values.apiToken.enabled }}
- name: api-token
  secret:
    secretName: {{ .Values.apiToken.existingSecret }}
    defaultMode: 0440
    items:
      - key: token
        path: token
{{- end }}
{{- end -}}

{{- define "prospector.grpcMounts" -}}
{{- if .Values.grpcTls.enabled }}
- name: grpc-tls
  mountPath: /etc/prospector/grpc-tls
  readOnly: true
{{- end }}
{{- if .Values.apiToken.enabled }}
- name: api-token
  mountPath: /etc/prospector/api-token
  readOnly: true
{{- end }}
{{- end -}}

{{/*
A Deployment for one service. Call with a dict:
  root       the chart's top context ($)
  component  tiler | extractor | scorer | evaluator
  values     the component's values
  image      the image values (repository, tag)
  replicas   a number, or "" when an autoscaler owns the replica count
  ports      list of {name, port} besides metrics
  env, volumes, mounts   extra YAML (strings) for this component
  resources, nodeSelector, tolerations   this component's scheduling
  strategy   optional Deployment strategy type
  startupProbe  optional {periodSeconds, failureThreshold}
*/}}
{{- define "prospector.deployment" -}}
{{- $root := .root -}}
{{- $v := .values -}}
{{- $ctx := list $root .component -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "prospector.componentName" $ctx }}
  labels:
    {{- include "prospector.labels" $ctx | nindent 4 }}
spec:
  {{- if ne (toString .replicas) "" }}
  replicas: {{ .replicas }}
  {{- end }}
  revisionHistoryLimit: 5
  {{- with .strategy }}
  strategy:
    type: {{ . }}
  {{- end }}
  selector:
    matchLabels:
      {{- include "prospector.selectorLabels" $ctx | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "prospector.labels" $ctx | nindent 8 }}
      annotations:
        checksum/config: {{ include (print $root.Template.BasePath "/configmap.yaml") $root | sha256sum }}
        {{- with $v.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      serviceAccountName: {{ include "prospector.serviceAccountName" $root }}
      automountServiceAccountToken: false
      enableServiceLinks: false
      terminationGracePeriodSeconds: {{ $v.terminationGracePeriodSeconds }}
      {{- with $root.Values.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      securityContext:
        {{- toYaml $root.Values.podSecurityContext | nindent 8 }}
      {{- with .nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with .tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $v.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- if $root.Values.spreadAcrossNodes }}
      topologySpreadConstraints:
        - maxSkew: 1
          topologyKey: kubernetes.io/hostname
          whenUnsatisfiable: ScheduleAnyway
          labelSelector:
            matchLabels:
              {{- include "prospector.selectorLabels" $ctx | nindent 14 }}
      {{- end }}
      containers:
        - name: {{ .component }}
          image: {{ include "prospector.image" (list $root .image) }}
          imagePullPolicy: {{ $root.Values.image.pullPolicy }}
          command: ["prospector-{{ .component }}"]
          securityContext:
            {{- toYaml $root.Values.securityContext | nindent 12 }}
          ports:
            - name: metrics
              containerPort: 9090
              protocol: TCP
            {{- range .ports }}
            - name: {{ .name }}
              containerPort: {{ .port }}
              protocol: TCP
            {{- end }}
          env:
            {{- include "prospector.commonEnv" $ctx | nindent 12 }}
            {{- with .env }}
            {{- . | nindent 12 }}
            {{- end }}
            {{- with $v.env }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
          {{- with .startupProbe }}
          startupProbe:
            httpGet:
              path: {{ $root.Values.probes.liveness.path }}
              port: metrics
            periodSeconds: {{ .periodSeconds }}
            failureThreshold: {{ .failureThreshold }}
          {{- end }}
          livenessProbe:
            httpGet:
              path: {{ $root.Values.probes.liveness.path }}
              port: metrics
            periodSeconds: {{ $root.Values.probes.liveness.periodSeconds }}
            timeoutSeconds: {{ $root.Values.probes.liveness.timeoutSeconds }}
            failureThreshold: {{ $root.Values.probes.liveness.failureThreshold }}
          readinessProbe:
            httpGet:
              path: {{ $root.Values.probes.readiness.path }}
              port: metrics
            periodSeconds: {{ $root.Values.probes.readiness.periodSeconds }}
            timeoutSeconds: {{ $root.Values.probes.readiness.timeoutSeconds }}
            failureThreshold: {{ $root.Values.probes.readiness.failureThreshold }}
          resources:
            {{- toYaml .resources | nindent 12 }}
          volumeMounts:
            {{- include "prospector.commonMounts" $ctx | nindent 12 }}
            {{- with .mounts }}
            {{- . | nindent 12 }}
            {{- end }}
      volumes:
        {{- include "prospector.commonVolumes" $ctx | nindent 8 }}
        {{- with .volumes }}
        {{- . | nindent 8 }}
        {{- end }}
{{- end -}}

{{/* The replica count a Deployment states: none when an autoscaler owns it. */}}
{{- define "prospector.replicas" -}}
{{- $root := index . 0 -}}
{{- $component := index . 1 -}}
{{- if and (ne $root.Values.autoscaling.mode "none") (has $component (list "extractor" "scorer")) -}}
{{- else -}}
{{- (index $root.Values $component).replicas -}}
{{- end -}}
{{- end -}}
