// Unit tests of jenkins/Jenkinsfile (with JenkinsPipelineUnit) and jenkins/jobs/cloudsmith-build.groovy.
// Run by jenkins/test/run.sh: groovy PipelineTests.groovy <repo root>. Prints one line per test.
//
// JenkinsPipelineUnit 1.1 (the newest on Maven Central) predates its declarative support, so the declarative
// directives are registered here with the semantics Jenkins gives them: stages run in order, a failed stage
// skips the rest, post conditions run after the stages (failure/aborted, then cleanup last).

import com.lesfurets.jenkins.unit.BasePipelineTest

class DeclarativeRun extends BasePipelineTest {
  static final String TOKEN = 'ghp_SENTINEL_token_value_123456'
  static final String APP_ENV = 'API_KEY=c2VjcmV0LXZhbHVl'

  final File repo
  Map<String, String> params
  /** label of the sh step that should fail, to exercise the failure path */
  String failAtLabel
  boolean abortAtLabel

  List<String> stagesRun = []
  List<Map> shCalls = []
  List<Map> credentialScopes = []
  List<String> postRun = []
  List<String> cleanups = []
  List<Map> parameterDecls = []
  List<Map> optionCalls = []
  Map<String, Closure> postConditions = [:]
  List<List> stageDecls = []
  Map<String, String> env = [:]
  String currentStage
  String result = 'SUCCESS'
  List<String> context = []

  DeclarativeRun(File repo, Map<String, String> params) {
    this.repo = repo
    this.params = params
  }

  void setUp() {
    baseScriptRoot = repo.absolutePath
    scriptRoots = ['jenkins'] as String[]
    scriptExtension = ''
    super.setUp()
    binding.setVariable('params', params)
    binding.setVariable('env', env)
    binding.setVariable('any', 'any')
    binding.setVariable('scm', [$class: 'GitSCM'])

    def inContext = { String name, Closure body -> context.push(name); try { body() } finally { context.pop() } }
    helper.registerAllowedMethod('pipeline', [Closure], { Closure c ->
      inContext('pipeline') { c() }
      try {
        for (decl in stageDecls) {
          String name = decl[0]
          Closure body = decl[1]
          if (result != 'SUCCESS') { continue }
          currentStage = name
          stagesRun << name
          try {
            inContext('stage') { body() }
          } catch (AbortedSignal ignored) {
            result = 'ABORTED'
          } catch (Exception ignored) {
            result = 'FAILURE'
          }
        }
      } finally {
        currentStage = null
        for (cond in ['always', 'aborted', 'failure', 'success', 'unsuccessful', 'cleanup']) {
          Closure body = postConditions[cond]
          boolean applies = cond in ['always', 'cleanup'] || cond.toUpperCase() == result ||
            (cond == 'unsuccessful' && result != 'SUCCESS')
          if (body != null && applies) {
            postRun << cond
            inContext('post') { body() }
          }
        }
      }
    })
    helper.registerAllowedMethod('agent', [Object], {})
    helper.registerAllowedMethod('options', [Closure], { Closure c -> inContext('options') { c() } })
    helper.registerAllowedMethod('timeout', [Map], { Map m -> optionCalls << [name: 'timeout', args: m] })
    helper.registerAllowedMethod('logRotator', [Map], { Map m -> [logRotator: m] })
    helper.registerAllowedMethod('buildDiscarder', [Object], { o -> optionCalls << [name: 'buildDiscarder', args: o] })
    helper.registerAllowedMethod('skipDefaultCheckout', [], { optionCalls << [name: 'skipDefaultCheckout'] })
    helper.registerAllowedMethod('disableResume', [], { optionCalls << [name: 'disableResume'] })
    helper.registerAllowedMethod('parameters', [Closure], { Closure c -> inContext('parameters') { c() } })
    helper.registerAllowedMethod('string', [Map], { Map m ->
      if (context && context[-1] == 'parameters') { parameterDecls << m; return m }
      return [kind: 'string', credentialsId: m.credentialsId, variable: m.variable]
    })
    helper.registerAllowedMethod('usernamePassword', [Map], { Map m ->
      [kind: 'usernamePassword', credentialsId: m.credentialsId, usernameVariable: m.usernameVariable, passwordVariable: m.passwordVariable]
    })
    helper.registerAllowedMethod('stages', [Closure], { Closure c -> inContext('stages') { c() } })
    helper.registerAllowedMethod('stage', [String, Closure], { String name, Closure c -> stageDecls << [name, c] })
    helper.registerAllowedMethod('steps', [Closure], { Closure c -> c() })
    helper.registerAllowedMethod('script', [Closure], { Closure c -> c() })
    helper.registerAllowedMethod('dir', [String, Closure], { String d, Closure c -> c() })
    helper.registerAllowedMethod('checkout', [Object], {})
    helper.registerAllowedMethod('archiveArtifacts', [Map], {})
    helper.registerAllowedMethod('cleanWs', [], { cleanups << 'cleanWs' })
    helper.registerAllowedMethod('deleteDir', [], { cleanups << 'deleteDir' })
    helper.registerAllowedMethod('post', [Closure], { Closure c -> inContext('post-decl') { c() } })
    for (cond in ['always', 'aborted', 'failure', 'success', 'unsuccessful', 'cleanup']) {
      String condition = cond
      helper.registerAllowedMethod(condition, [Closure], { Closure c -> postConditions[condition] = c })
    }
    helper.registerAllowedMethod('withCredentials', [List, Closure], { List bindings, Closure c ->
      Map scope = [stage: currentStage, bindings: bindings, sh: []]
      credentialScopes << scope
      Map<String, String> saved = new HashMap(env)
      bindings.each { Map b ->
        if (b.kind == 'usernamePassword') {
          env[b.usernameVariable] = 'x-access-token'
          env[b.passwordVariable] = TOKEN
        } else {
          env[b.variable] = APP_ENV
        }
      }
      try { c() } finally { env.clear(); env.putAll(saved) }
    })
    helper.registerAllowedMethod('sh', [Map], { Map m ->
      Map call = [stage: currentStage, label: m.label, script: m.script, gstring: m.script instanceof GString,
                  boundSecret: env.values().any { it == TOKEN }, boundEnv: env.values().any { it == APP_ENV }]
      shCalls << call
      if (failAtLabel != null && m.label == failAtLabel) {
        if (abortAtLabel) { throw new AbortedSignal() }
        throw new RuntimeException("script returned exit code 1")
      }
      0
    })
    helper.registerAllowedMethod('sh', [String], { String s -> shCalls << [stage: currentStage, script: s, gstring: false] })
  }

  void go() {
    setUp()
    def script = loadScript('Jenkinsfile')
    script.run()
  }

  List allCallArgs() {
    helper.callStack.collect { it.argsToString() }
  }
}

class AbortedSignal extends RuntimeException {}

// ---------------------------------------------------------------- test harness
File repo = new File(args.length > 0 ? args[0] : '.').canonicalFile
File jenkinsDir = new File(repo, 'jenkins')
int passed = 0
int failed = 0
def test = { String name, Closure body ->
  try {
    body()
    passed++
    println "  ok   ${name}"
  } catch (Throwable t) {
    failed++
    println "  FAIL ${name}: ${t.class.simpleName}: ${t.message}"
  }
}
// IllegalStateException, not AssertionError: Groovy 2.4 on Java 17 picks AssertionError's private constructor.
def check = { boolean cond, String message -> if (!cond) throw new IllegalStateException(message) }

Map<String, String> sampleParams = [
  REPO_CLONE_URL: 'https://git.example.com/acme/app.git', REF: 'main', COMMIT_SHA: 'a' * 40,
  DEPLOYMENT_ID: 'dep-1', ROOT_DIR: '.', INSTALL_COMMAND: 'npm ci', BUILD_COMMAND: 'npm run build',
  OUTPUT_DIR: '', RUN_RULES: '', ARTIFACT_BUCKET: '', ARTIFACT_KEY: 'artifacts/app/sha/dep-1.tar.gz', RUN_PLAN: '',
  CALLBACK_URL: 'http://127.0.0.1:1/cb', GIT_CREDENTIALS_ID: 'cloudsmith-git-dep-1', ENV_CREDENTIALS_ID: 'cloudsmith-env-dep-1',
]
List<String> expectedStages = ['checkout', 'detect', 'cache-restore', 'install', 'build', 'package', 'upload', 'cache-save', 'notify']

// The parameters the platform's adapter sends, read from its source so the two cannot drift apart.
File adapterParams = new File(repo, 'backend/src/adapters/builder/jenkins/parameters.ts')
List<String> adapterParamNames = []
if (adapterParams.exists()) {
  def block = (adapterParams.text =~ /(?s)JENKINS_PARAMETERS\s*=\s*\[(.*?)\]/)
  if (block.find()) adapterParamNames = (block.group(1) =~ /'([A-Z_]+)'/).collect { it[1] }
}

println 'Jenkinsfile'
test('parses as Groovy') {
  new GroovyShell().parse(new File(jenkinsDir, 'Jenkinsfile'))
}

DeclarativeRun ok = new DeclarativeRun(repo, sampleParams)
test('runs under JenkinsPipelineUnit') { ok.go() }

test('runs the stages in order, then cleans up') {
  check(ok.stagesRun == expectedStages, "stages were ${ok.stagesRun}")
  check(ok.result == 'SUCCESS', "result ${ok.result}")
  check(ok.postRun == ['cleanup'], "post ran ${ok.postRun}")
  check(ok.cleanups == ['cleanWs'], "cleanups ${ok.cleanups}")
}

test('each stage runs jenkins/steps/<stage>.sh (what the stand-in runs)') {
  for (stageName in expectedStages) {
    def calls = ok.shCalls.findAll { it.stage == stageName }
    check(calls.size() >= 1, "stage ${stageName} runs no sh step")
    check(calls.every { it.script.contains("/jenkins/steps/${stageName}.sh") }, "stage ${stageName} runs ${calls*.script}")
  }
}

test('binds the Git token only around checkout, as a usernamePassword credential') {
  def gitScopes = ok.credentialScopes.findAll { s -> s.bindings.any { it.kind == 'usernamePassword' } }
  check(gitScopes.size() == 1, "git credential bound ${gitScopes.size()} times")
  check(gitScopes[0].stage == 'checkout', "bound in ${gitScopes[0].stage}")
  check(gitScopes[0].bindings[0].credentialsId == sampleParams.GIT_CREDENTIALS_ID, 'credentialsId is not params.GIT_CREDENTIALS_ID')
  def withToken = ok.shCalls.findAll { it.boundSecret }
  check(withToken*.stage == ['checkout'], "token visible to sh in ${withToken*.stage}")
}

test('binds the app env only around install and build') {
  def withEnv = ok.shCalls.findAll { it.boundEnv }
  check(withEnv*.stage == ['install', 'build'], "app env visible in ${withEnv*.stage}")
}

test('never interpolates a parameter or secret into a shell command') {
  check(ok.shCalls.every { !it.gstring }, "GString sh scripts: ${ok.shCalls.findAll { it.gstring }*.script}")
  check(ok.allCallArgs().every { !it.contains(DeclarativeRun.TOKEN) }, 'the token appears in a step argument')
  String source = new File(jenkinsDir, 'Jenkinsfile').text
  check(!(source =~ /"[^"\n]*\$\{?(GIT_PASSWORD|GIT_USERNAME|APP_ENV_B64|params\.)/).find(), 'a double-quoted string interpolates a secret or parameter')
  check(!source.contains('set -x'), 'xtrace would echo secrets')
}

test('restores the build cache before install and saves it after upload, with no credential bound') {
  def cacheCalls = ok.shCalls.findAll { it.script.contains('/jenkins/steps/cache-') }
  check(cacheCalls*.stage == ['cache-restore', 'cache-save'], "cache steps in ${cacheCalls*.stage}")
  check(cacheCalls.every { !it.boundSecret && !it.boundEnv }, 'a credential is bound around a cache step')
  check(expectedStages.indexOf('cache-restore') < expectedStages.indexOf('install'), 'cache-restore runs after install')
  check(expectedStages.indexOf('cache-save') > expectedStages.indexOf('upload'), 'cache-save runs before upload')
}

test('declares timeout, build discarder, no default checkout') {
  def names = ok.optionCalls*.name
  check('timeout' in names, 'no timeout')
  check(ok.optionCalls.find { it.name == 'timeout' }.args.time > 0, 'timeout without time')
  check('buildDiscarder' in names, 'no buildDiscarder')
  check('skipDefaultCheckout' in names, 'no skipDefaultCheckout')
}

List<String> declared = ok.parameterDecls*.name
test('declares every parameter the adapter sends') {
  check(!adapterParamNames.isEmpty(), "could not read JENKINS_PARAMETERS from ${adapterParams}")
  def missing = adapterParamNames - declared
  check(missing.isEmpty(), "missing parameters ${missing}")
  def extra = declared - adapterParamNames
  check(extra.isEmpty(), "parameters the adapter never sends: ${extra}")
}

test('failure path: later stages skipped, notifies FAILURE, then cleans up') {
  DeclarativeRun run = new DeclarativeRun(repo, sampleParams)
  run.failAtLabel = 'build'
  run.go()
  check(run.result == 'FAILURE', "result ${run.result}")
  check(run.stagesRun == ['checkout', 'detect', 'cache-restore', 'install', 'build'], "stages ${run.stagesRun}")
  check(!run.shCalls.any { it.script.contains('cache-save.sh') }, 'a failed build saved its cache')
  check(run.postRun == ['failure', 'cleanup'], "post ${run.postRun}")
  def notify = run.shCalls.findAll { it.stage == null && it.script.contains('notify.sh') }
  check(notify.size() == 1 && notify[0].script.contains('FAILURE'), "notify calls ${notify*.script}")
  check(run.cleanups == ['cleanWs'], "cleanups ${run.cleanups}")
}

test('aborted path: notifies ABORTED, then cleans up') {
  DeclarativeRun run = new DeclarativeRun(repo, sampleParams)
  run.failAtLabel = 'install'
  run.abortAtLabel = true
  run.go()
  check(run.result == 'ABORTED', "result ${run.result}")
  check(run.postRun == ['aborted', 'cleanup'], "post ${run.postRun}")
  check(run.shCalls.any { it.stage == null && it.script.contains('notify.sh" ABORTED') }, 'no ABORTED notify')
}

test('without ENV_CREDENTIALS_ID no env credential is bound') {
  DeclarativeRun run = new DeclarativeRun(repo, sampleParams + [ENV_CREDENTIALS_ID: ''])
  run.go()
  check(run.result == 'SUCCESS', "result ${run.result}")
  check(!run.shCalls.any { it.boundEnv }, 'env bound without a credential id')
}

println 'Job DSL'
class DslRecorder {
  List<String> path = []
  List<Map> calls = []
  def methodMissing(String name, Object argsObj) {
    Object[] callArgs = argsObj as Object[]
    calls << [path: path.join('.'), name: name, args: callArgs.toList()]
    if (callArgs.length > 0 && callArgs[-1] instanceof Closure) {
      Closure c = (Closure) callArgs[-1]
      path.push(name)
      try {
        c.delegate = this
        c.resolveStrategy = Closure.DELEGATE_FIRST
        c()
      } finally {
        path.pop()
      }
    }
    this
  }
}
DslRecorder dsl = new DslRecorder()
test('cloudsmith-build.groovy evaluates') {
  Binding b = new Binding()
  b.setVariable('pipelineJob', { String name, Closure c -> dsl.methodMissing('pipelineJob', [name, c] as Object[]) })
  new GroovyShell(b).evaluate(new File(jenkinsDir, 'jobs/cloudsmith-build.groovy'))
  check(dsl.calls.any { it.name == 'pipelineJob' }, 'no pipelineJob')
}
test('Job DSL declares the same parameters as the Jenkinsfile') {
  List<String> dslParams = dsl.calls.findAll { it.path == 'pipelineJob.parameters' && it.name == 'stringParam' }.collect { it.args[0] }
  check(dslParams == declared, "Job DSL ${dslParams} vs Jenkinsfile ${declared}")
}
test('Job DSL points the job at jenkins/Jenkinsfile and discards old builds') {
  check(dsl.calls.any { it.name == 'scriptPath' && it.args[0] == 'jenkins/Jenkinsfile' }, 'scriptPath')
  check(dsl.calls.any { it.name == 'logRotator' }, 'logRotator')
}

println "jenkins pipeline: ${passed} passed, ${failed} failed"
System.exit(failed == 0 ? 0 : 1)
